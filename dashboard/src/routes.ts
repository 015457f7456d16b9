// The dashboard's addresses, apart from the browser, so that they are testable anywhere.

/** The dashboard's pages, addressed by the URL's fragment (`#/runs/ID`). */
export type Route =
  | { readonly page: 'runs' }
  | { readonly page: 'run'; readonly id: string; readonly atom: string | undefined }
  | { readonly page: 'jobs' }
  | { readonly page: 'flows'; readonly name: string | undefined }
  | { readonly page: 'conductors' };

export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  switch (parts[0]) {
    case 'runs':
      return parts[1] === undefined
        ? { page: 'runs' }
        : { page: 'run', id: parts[1], atom: parts[2] };
    case 'jobs':
      return { page: 'jobs' };
    case 'flows':
      return { page: 'flows', name: parts[1] };
    case 'conductors':
      return { page: 'conductors' };
    default:
      return { page: 'runs' };
  }
}

/** The link to a route. */
export function href(route: Route): string {
  switch (route.page) {
    case 'runs':
    case 'jobs':
    case 'conductors':
      return `#/${route.page}`;
    case 'run':
      return `#/runs/${encodeURIComponent(route.id)}${route.atom === undefined ? '' : `/${encodeURIComponent(route.atom)}`}`;
    case 'flows':
      return route.name === undefined ? '#/flows' : `#/flows/${encodeURIComponent(route.name)}`;
  }
}
