// `taskflow-ts/testing`: helpers for tests of code built on taskflow, and the contract suite
// a third-party jobboard adapter runs (under `node:test`). Nothing here needs a dev dependency.
export { FakeClock } from './fake-clock.ts';
export {
  type JobBoardContractOptions,
  jobSpec,
  rejectsWith,
  runJobBoardContract,
} from './jobboard-contract.ts';
