// Caps on connections that have not authenticated yet (no authenticated request, no WebSocket
// auth), per client address and in total, so that idle or slow sockets cannot use up the file
// descriptors a valid client needs. Over a cap the oldest such socket is closed to make room:
// a valid client authenticates within a round trip, a slow one is the one that has waited longest.
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';

export interface ConnectionLimitsOptions {
  maxPerAddress: number;
  maxTotal: number;
  /** Told at most every 10 s how many sockets were closed over the caps since it was last told. */
  logger?: { warn(object: object, message: string): void };
}

const LOG_EVERY_MS = 10_000;

export interface ConnectionLimits {
  /** The socket has authenticated: it no longer counts against the caps. */
  markAuthenticated(socket: Duplex): void;
  /** Unauthenticated sockets open now. */
  readonly unauthenticated: number;
  /** Sockets closed to stay within the caps, since start. */
  readonly evicted: number;
}

export function createConnectionLimits(server: Server, options: ConnectionLimitsOptions): ConnectionLimits {
  // Insertion order is connection order: the first entry is the oldest.
  const all = new Set<Socket>();
  const byAddress = new Map<string, Set<Socket>>();
  const addressOf = new WeakMap<Socket, string>();
  let evicted = 0;
  let loggedAt = 0;
  let loggedCount = 0;

  const forget = (socket: Socket): void => {
    if (!all.delete(socket)) return;
    const address = addressOf.get(socket) ?? '';
    const sockets = byAddress.get(address);
    sockets?.delete(socket);
    if (sockets?.size === 0) byAddress.delete(address);
  };
  const evictOldest = (sockets: Set<Socket>): void => {
    const oldest = sockets.values().next().value;
    if (oldest === undefined) return;
    const address = addressOf.get(oldest) ?? '';
    forget(oldest);
    evicted += 1;
    oldest.destroy();
    // An attack closes thousands a second: one line per interval, not one per socket.
    const now = Date.now();
    if (options.logger !== undefined && now - loggedAt >= LOG_EVERY_MS) {
      options.logger.warn(
        { closed: evicted - loggedCount, lastAddress: address, maxPerAddress: options.maxPerAddress, maxTotal: options.maxTotal },
        'closed unauthenticated connections over the caps (KERUTA_MAX_UNAUTHENTICATED_PER_ADDRESS, KERUTA_MAX_UNAUTHENTICATED_CONNECTIONS)',
      );
      loggedAt = now;
      loggedCount = evicted;
    }
  };

  // TLS sockets are tracked as the TCP sockets beneath them: a slow handshake counts too.
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const mine = byAddress.get(address) ?? new Set<Socket>();
    if (mine.size >= options.maxPerAddress) evictOldest(mine);
    if (all.size >= options.maxTotal) evictOldest(all);
    mine.add(socket);
    byAddress.set(address, mine);
    all.add(socket);
    addressOf.set(socket, address);
    socket.once('close', () => forget(socket));
  });

  return {
    markAuthenticated(socket) {
      const tcp = (socket as Duplex & { _parent?: Socket | null })._parent ?? socket;
      forget(tcp as Socket);
    },
    get unauthenticated() {
      return all.size;
    },
    get evicted() {
      return evicted;
    },
  };
}

/**
 * Marks a request's socket as authenticated once the auth hook has found its principal and the
 * whole body has arrived: in auth mode none every request has a principal, and a body sent a
 * byte at a time must not take a socket out of the count.
 */
export function registerAuthenticatedMarker(app: FastifyInstance, limits: ConnectionLimits): void {
  app.addHook('preHandler', async (request) => {
    if (request.principal !== undefined) limits.markAuthenticated(request.raw.socket);
  });
}
