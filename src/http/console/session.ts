import { randomBytes } from 'node:crypto';
import type { Requester } from '../../types';

/** A signed-in console user: who, from which address, and until when. */
export interface ConsoleSession {
  readonly id: string;
  readonly requester: Requester;
  readonly createdAt: number;
  lastSeenAt: number;
}

export interface SessionTimes {
  /** A session unused this long ends. */
  readonly idleMs: number;
  /** And any session ends this long after sign-in, used or not. */
  readonly absoluteMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 30 * 60_000, absoluteMs: 8 * 60 * 60_000 };

/** The cookie that carries the session id; only the console's paths see it. */
export const SESSION_COOKIE = 'mayfly_console';
export const CONSOLE_PATH = '/ui/';

/**
 * The console's sessions, in this process's memory: the cookie carries only a random id (256 bits),
 * so nothing a browser holds says who it is, and a restart signs everyone out. Expired sessions are
 * swept as others are looked up, so the map never outgrows the sessions of the last absolute period.
 */
export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    private readonly times: SessionTimes = DEFAULT_SESSION_TIMES,
    private readonly now: () => number = Date.now,
  ) {}

  create(requester: Requester): ConsoleSession {
    this.sweep();
    const now = this.now();
    const session: ConsoleSession = { id: randomBytes(32).toString('base64url'), requester, createdAt: now, lastSeenAt: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session with this id (touching it), or undefined. */
  find(id: string | undefined): ConsoleSession | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    if (this.expired(session, now)) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  private expired(session: ConsoleSession, now: number): boolean {
    return now - session.lastSeenAt >= this.times.idleMs || now - session.createdAt >= this.times.absoluteMs;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, session] of this.sessions) if (this.expired(session, now)) this.sessions.delete(id);
  }
}

/** The session id from a Cookie header (RFC 6265 5.4), if one was sent. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  for (const pair of (cookieHeader ?? '').split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === SESSION_COOKIE) return value.join('=');
  }
  return undefined;
}

/** Set-Cookie for a session: not readable by scripts, sent only to the console and only same-site. */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}

export const clearedSessionCookie = (secure: boolean): string => `${SESSION_COOKIE}=; Path=${CONSOLE_PATH}; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
