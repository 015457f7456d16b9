import { useCallback, useLayoutEffect, useMemo, useState } from 'preact/hooks';
import { Api, ApiError, errorText } from './api/client.ts';
import type { Flow } from './api/types.ts';
import { forgetToken, storedToken, storeToken } from './auth/session.ts';
import { SignIn } from './auth/sign-in.tsx';
import { ConductorsPage } from './conductors/conductors-page.tsx';
import { type Session, SessionContext } from './context.ts';
import { FlowsPage } from './flows/flows-page.tsx';
import { workerLayouter } from './graph/elk-worker.ts';
import { JobsPage } from './jobs/jobs-page.tsx';
import { useRoute } from './router.ts';
import { href, type Route } from './routes.ts';
import { RunPage } from './runs/run-page.tsx';
import { RunsPage } from './runs/runs-page.tsx';
import { ErrorNote } from './ui/widgets.tsx';

type Phase =
  | { readonly kind: 'sign-in'; readonly refused: ApiError | undefined }
  | { readonly kind: 'unreachable'; readonly message: string; readonly token: string | undefined }
  | { readonly kind: 'ready'; readonly session: Session };

/**
 * The dashboard: opens the pages at once with the stored token (or none, for a service without
 * authentication) while the served flows load; the first 401 of any call, that one included,
 * shows the sign-in screen, saying that the token was refused when there was one.
 */
export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'sign-in', refused: undefined });

  const open = useCallback((token: string | undefined) => {
    const current = (p: Phase): boolean => p.kind === 'ready' && p.session.api === api;
    const api: Api = new Api({
      token,
      onUnauthorized: (error) => {
        forgetToken();
        // Without a token, the service asking for one is no refusal: just sign in.
        const signIn: Phase = { kind: 'sign-in', refused: token === undefined ? undefined : error };
        setPhase((p) => (current(p) ? signIn : p));
      },
      onForbidden: () =>
        setPhase((p) =>
          p.kind === 'ready' && current(p)
            ? { kind: 'ready', session: { ...p.session, readOnly: true } }
            : p,
        ),
    });
    if (token !== undefined) storeToken(token);
    setPhase({
      kind: 'ready',
      session: { api, flows: undefined, layouter: workerLayouter(), readOnly: false },
    });
    api
      .get<{ scope: string }>('/v1/whoami')
      .then((me) => {
        if (me.scope !== 'read') return;
        setPhase((p) =>
          p.kind === 'ready' && current(p)
            ? { kind: 'ready', session: { ...p.session, readOnly: true } }
            : p,
        );
      })
      // A refusal of the token is the flows call's to report; an older service has no route.
      .catch(() => undefined);
    api
      .get<{ items: Flow[] }>('/v1/flows')
      .then((flows) =>
        setPhase((p) =>
          p.kind === 'ready' && current(p)
            ? { kind: 'ready', session: { ...p.session, flows: flows.items } }
            : p,
        ),
      )
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401) return;
        const down: Phase = { kind: 'unreachable', message: errorText(error), token };
        setPhase((p) => (current(p) ? down : p));
      });
  }, []);

  // Before the first paint, so that a stored token never flashes the sign-in screen.
  useLayoutEffect(() => open(storedToken()), [open]);

  const signOut = useCallback(() => {
    forgetToken();
    setPhase({ kind: 'sign-in', refused: undefined });
  }, []);

  switch (phase.kind) {
    case 'unreachable':
      return (
        <main class="centered">
          <h1>The service does not answer</h1>
          <ErrorNote>{phase.message}</ErrorNote>
          <button type="button" onClick={() => open(phase.token)}>
            Try again
          </button>
        </main>
      );
    case 'sign-in':
      return <SignIn refused={phase.refused} onToken={open} />;
    case 'ready':
      return (
        <SessionContext.Provider value={phase.session}>
          <Shell signedIn={phase.session.api.hasToken} onSignOut={signOut} />
        </SessionContext.Provider>
      );
  }
}

const NAV: readonly {
  readonly label: string;
  readonly route: Route;
  readonly pages: readonly string[];
}[] = [
  { label: 'Runs', route: { page: 'runs' }, pages: ['runs', 'run'] },
  { label: 'Jobs', route: { page: 'jobs' }, pages: ['jobs'] },
  { label: 'Flows', route: { page: 'flows', name: undefined }, pages: ['flows'] },
  { label: 'Conductors', route: { page: 'conductors' }, pages: ['conductors'] },
];

function Shell({
  signedIn,
  onSignOut,
}: {
  readonly signedIn: boolean;
  readonly onSignOut: () => void;
}) {
  const route = useRoute();
  const page = useMemo(() => <Page route={route} />, [route]);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/runs">
          taskflow
        </a>
        <nav aria-label="Pages">
          {NAV.map((item) => (
            <a
              key={item.label}
              href={href(item.route)}
              aria-current={item.pages.includes(route.page) ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        {signedIn ? (
          <button type="button" class="sign-out" onClick={onSignOut}>
            Sign out
          </button>
        ) : (
          <span class="muted">no authentication</span>
        )}
      </header>
      <main>{page}</main>
    </>
  );
}

function Page({ route }: { readonly route: Route }) {
  switch (route.page) {
    case 'runs':
      return <RunsPage />;
    case 'run':
      return <RunPage id={route.id} atom={route.atom} />;
    case 'jobs':
      return <JobsPage />;
    case 'flows':
      return <FlowsPage selected={route.name} />;
    case 'conductors':
      return <ConductorsPage />;
  }
}
