// Poolifier's worker file: the same task functions behind its ThreadWorker.
import { ThreadWorker } from 'poolifier';
import run from './tasks.mjs';

export default new ThreadWorker(run);
