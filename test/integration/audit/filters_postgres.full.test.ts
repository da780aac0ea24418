// The audit filters (filters_suite.ts) on PostgreSQL: the same questions, the same answers.
import { filterSuites } from './filters_suite';

filterSuites(['postgres']);
