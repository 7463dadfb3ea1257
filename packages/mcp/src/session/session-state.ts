import { MqttAgentsError } from '@mqtt-agents/core';

/** Which end of a session a core serves. */
export type SessionRole = 'client' | 'server';

/**
 * `created` → `starting` → `started` → `closed`; `closed` is reachable from every state and final. A client
 * session is `starting` while it subscribes; a server session's topics are subscribed before its transport
 * exists, so it passes through `starting` at once.
 */
export type SessionState = 'created' | 'starting' | 'started' | 'closed';

/** The state of one session, with the errors each role reports for a call in the wrong state. */
export class SessionStateMachine {
  readonly role: SessionRole;
  private state: SessionState = 'created';

  constructor(role: SessionRole) {
    this.role = role;
  }

  get current(): SessionState {
    return this.state;
  }

  is(state: SessionState): boolean {
    return this.state === state;
  }

  /** `created` → `starting`; a second `start()` throws an error that says what to do instead. */
  beginStart(): void {
    if (this.state === 'created') {
      this.state = 'starting';
      return;
    }
    if (this.state === 'closed') {
      throw new MqttAgentsError(
        'CLOSED',
        this.role === 'client'
          ? 'mqtt client transport is closed: create a new transport for a new session'
          : 'session transport is closed',
      );
    }
    throw new MqttAgentsError(
      'ALREADY_STARTED',
      this.role === 'client'
        ? 'mqtt client transport already started: an sdk client starts it in connect(), do not call start() yourself'
        : 'session transport already started: each sdk server connects to its own session transport once',
    );
  }

  /** `starting` → `started`; false when the session closed meanwhile. */
  completeStart(): boolean {
    if (this.state !== 'starting') return false;
    this.state = 'started';
    return true;
  }

  /** → `closed`. Returns true when the session had been starting or started. */
  close(): boolean {
    const wasActive = this.state === 'started' || this.state === 'starting';
    this.state = 'closed';
    return wasActive;
  }

  /**
   * Throw unless the session may send: a client only once started, a server until closed (its SDK server
   * may answer while the host still hands over `initialize`).
   */
  assertCanSend(peer: string): void {
    if (this.state === 'closed') {
      throw new MqttAgentsError('CONNECTION_CLOSED', `session with ${peer} is closed`);
    }
    if (this.role === 'client' && this.state !== 'started') {
      throw new MqttAgentsError('NOT_CONNECTED', 'mqtt client transport is not started');
    }
  }
}
