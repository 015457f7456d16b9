import type { ELK, ElkNode } from 'elkjs/lib/elk-api.js';
import type { ElkLayouter } from './layout.ts';

/**
 * A layouter that runs ELK in a web worker, so a big layout never blocks the page. ELK's code
 * (its worker script) is fetched on the first layout only.
 */
export function workerLayouter(): ElkLayouter {
  let elk: Promise<ELK> | undefined;
  return async (graph: ElkNode) => {
    elk ??= Promise.all([
      import('elkjs/lib/elk-api.js'),
      import('elkjs/lib/elk-worker.min.js?url'),
    ]).then(([api, worker]) => new api.default({ workerUrl: worker.default }));
    return (await elk).layout(graph);
  };
}
