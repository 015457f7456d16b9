import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api/client.ts';
import type { Flow } from './api/types.ts';
import type { ElkLayouter } from './graph/layout.ts';

/** What every page gets: the API with the signed-in token, and the served flows. */
export interface Session {
  readonly api: Api;
  /** The served flows; undefined while they load. */
  readonly flows: readonly Flow[] | undefined;
  /** Lays out graphs (ELK in a worker, started on the first graph shown). */
  readonly layouter: ElkLayouter;
  /**
   * True when the token may only read: `GET /v1/whoami` says so once the page opens, and a
   * refusal of an action for the token's scope (403) says so too.
   */
  readonly readOnly: boolean;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === undefined) throw new Error('useSession outside the signed-in app');
  return session;
}
