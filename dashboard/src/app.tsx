import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { Api, type ApiError, errorText } from './api/client.ts';
import type { Flow } from './api/types.ts';
import { forgetToken, storedToken, storeToken } from './auth/session.ts';
import { SignIn } from './auth/sign-in.tsx';
import { ConductorsPage } from './conductors/conductors-page.tsx';
import { type Session, SessionContext } from './context.ts';
import { FlowsPage } from './flows/flows-page.tsx';
import { workerLayouter } from './graph/elk-worker.ts';
import { JobsPage } from './jobs/jobs-page.tsx';
import { href, type Route, useRoute } from './router.ts';
import { RunPage } from './runs/run-page.tsx';
import { RunsPage } from './runs/runs-page.tsx';
import { ErrorNote } from './ui/widgets.tsx';

type Phase =
  | { readonly kind: 'checking' }
  | { readonly kind: 'sign-in'; readonly refused: ApiError | undefined }
  | { readonly kind: 'unreachable'; readonly message: string }
  | { readonly kind: 'ready'; readonly session: Session };

/**
 * The dashboard: checks the stored token (or that the service needs none) by reading the
 * served flows, then shows the pages; any 401 afterwards returns to the sign-in screen.
 */
export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });
  const refuse = useCallback((error: ApiError) => {
    forgetToken();
    setPhase({ kind: 'sign-in', refused: error });
  }, []);

  const check = useCallback(
    async (token: string | undefined) => {
      setPhase({ kind: 'checking' });
      let refused: ApiError | undefined;
      const api = new Api({ token, onUnauthorized: (error) => (refused = error) });
      try {
        const flows = await api.get<{ items: Flow[] }>('/v1/flows');
        if (token !== undefined) storeToken(token);
        setPhase({
          kind: 'ready',
          session: {
            api: new Api({ token, onUnauthorized: refuse }),
            flows: flows.items,
            layouter: workerLayouter(),
          },
        });
      } catch (error) {
        if (refused !== undefined) {
          forgetToken();
          // With no token yet, the service asking for one is no refusal: just sign in.
          setPhase({ kind: 'sign-in', refused: token === undefined ? undefined : refused });
        } else {
          setPhase({ kind: 'unreachable', message: errorText(error) });
        }
      }
    },
    [refuse],
  );

  useEffect(() => {
    void check(storedToken());
  }, [check]);

  const signOut = useCallback(() => {
    forgetToken();
    setPhase({ kind: 'sign-in', refused: undefined });
  }, []);

  switch (phase.kind) {
    case 'checking':
      return <p class="centered">Connecting to the service…</p>;
    case 'unreachable':
      return (
        <main class="centered">
          <h1>The service does not answer</h1>
          <ErrorNote>{phase.message}</ErrorNote>
          <button type="button" onClick={() => void check(storedToken())}>
            Try again
          </button>
        </main>
      );
    case 'sign-in':
      return <SignIn refused={phase.refused} onToken={(token) => void check(token)} />;
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
