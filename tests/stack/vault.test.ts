// The Vault stand-in: secrets go in through vault.create_secret, come out through
// vault.decrypted_secrets, are stored encrypted, and only postgres/service_role can read them.
import { describe, expect, it } from 'vitest';
import { pg } from '../support/stack.ts';

describe('vault stand-in', () => {
  it('round-trips a secret and stores it encrypted', async () => {
    const sql = await pg();
    const name = `test_secret_${Date.now()}`;
    const value = `s3cr3t-${Math.random()}`;
    const [{ id }] = await sql`select vault.create_secret(${value}, ${name}, 'test') as id`;
    const [row] = await sql`select decrypted_secret, secret from vault.decrypted_secrets where name = ${name}`;
    expect(row.decrypted_secret).toBe(value);
    expect(row.secret).not.toContain(value);

    await sql`select vault.update_secret(${id}, 'rotated')`;
    const [after] = await sql`select decrypted_secret from vault.decrypted_secrets where id = ${id}`;
    expect(after.decrypted_secret).toBe('rotated');

    await sql`delete from vault.secrets where id = ${id}`;
    await sql.end();
  });

  it('refuses duplicate names', async () => {
    const sql = await pg();
    const name = `dup_${Date.now()}`;
    await sql`select vault.create_secret('a', ${name})`;
    await expect(sql`select vault.create_secret('b', ${name})`).rejects.toMatchObject({ code: '23505' });
    await sql`delete from vault.secrets where name = ${name}`;
    await sql.end();
  });

  it('is closed to the API roles', async () => {
    const sql = await pg();
    for (const role of ['anon', 'authenticated']) {
      await expect(sql.begin(async (tx) => {
        await tx`select set_config('role', ${role}, true)`;
        return tx`select decrypted_secret from vault.decrypted_secrets`;
      })).rejects.toMatchObject({ code: '42501' });
      await expect(sql.begin(async (tx) => {
        await tx`select set_config('role', ${role}, true)`;
        return tx`select vault.create_secret('x', 'y')`;
      })).rejects.toMatchObject({ code: '42501' });
    }
    await sql.end();
  });
});
