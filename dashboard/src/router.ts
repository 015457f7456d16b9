import { useEffect, useState } from 'preact/hooks';
import { href, parseRoute, type Route } from './routes.ts';

/** Goes to a route (a new history entry). */
export function navigate(route: Route): void {
  location.hash = href(route);
}

/** The current route, following the fragment. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}
