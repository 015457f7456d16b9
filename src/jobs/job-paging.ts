import { listingPaging } from '../drivers/cursor-paging.ts';
import { invalidJobArgument } from './job-refusals.ts';

const jobPaging = listingPaging({ madeBy: 'this board', invalidArgument: invalidJobArgument });

/** Parses a job listing's `after` string; undefined stays undefined. */
export const decodeJobCursor = jobPaging.decodeCursor;

/** The page size of a job listing: `limit` when it is a whole number in 1..1000, else 100. */
export const jobPageLimit = jobPaging.pageLimit;
