// Starts a node:http server on host:port and returns a close() that also ends open and hanging
// connections (a plain server.close() waits for them forever). Shared by the local sinks.
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

export async function listenClosable(server: Server, port: number, host: string): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const bound = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    close() {
      closed ??= new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
  };
}
