// The shared stream behind websocketd's fan-out row: one `tail -F` of the task's file is piped in
// here, and every chunk read is copied, as read, to each client on a Unix socket (websocketd's
// per-connection command, `socat -u UNIX-CONNECT:SOCK STDOUT`, is one such client). The copying
// is per chunk, not per line: the lines are split and framed by websocketd, as with a script.
// Like `tee`, it reads on only when every client has taken the last chunk. Prints `clients N` on
// stdout whenever a client connects, so the bench starts the script once all are there.
// Usage: tail -n +1 -F FILE | node hub.mjs SOCKET
import { createServer } from 'node:net';

const clients = new Set();
/** Clients that have not taken the last chunk yet: stdin is paused until there are none. */
const behind = new Set();
const caughtUp = (socket) => {
  if (behind.delete(socket) && behind.size === 0) process.stdin.resume();
};
const server = createServer((socket) => {
  clients.add(socket);
  socket.on('drain', () => caughtUp(socket));
  socket.on('error', () => undefined);
  socket.on('close', () => {
    clients.delete(socket);
    caughtUp(socket);
  });
  process.stdout.write(`clients ${clients.size}\n`);
});
server.listen(process.argv[2]);
process.stdin.on('data', (chunk) => {
  for (const socket of clients) if (!socket.write(chunk)) behind.add(socket);
  if (behind.size > 0) process.stdin.pause();
});
process.stdin.on('end', () => {
  for (const socket of clients) socket.end();
  server.close();
});
