// Placeholder until this job family is written (issue 5, in progress).
import type { JobFactory } from '../src/scheduler/job.js';

const factory: JobFactory = () => [];
export default factory;
