// Queue names and job-id helpers. Job ids are derived from the platform message id (or task + step), so a
// retried delivery or a re-run job adds nothing new (BullMQ ignores an add whose id exists).
export const queueNames = {
  inbox: 'inbox',
  repair: 'repair',
  cleaning: 'cleaning',
  meal: 'meal',
  timers: 'timers',
  outbox: 'outbox',
} as const;

export const routeQueues = ['repair', 'cleaning', 'meal'] as const;

/** BullMQ refuses ':' in custom ids (and pure integers); keep ids readable otherwise. */
export function jobId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[:\s]/g, '_')).join('.');
}
