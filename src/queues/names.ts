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
export type RouteQueue = (typeof routeQueues)[number];

/**
 * The route queue a new task of this kind waits in. The set stays fixed whatever kinds a config adds (a queue per kind
 * would be a worker and a Redis connection per kind, per tenant): a kind of the config's own (运送, 医废收运) behaves
 * like cleaning and goes through the cleaning queue. The job carries only the task id; routing reads the task.
 */
export function routeQueueOf(kind: string): RouteQueue {
  return (routeQueues as readonly string[]).includes(kind) ? (kind as RouteQueue) : 'cleaning';
}

/** BullMQ refuses ':' in custom ids (and pure integers); keep ids readable otherwise. */
export function jobId(...parts: (string | number)[]): string {
  return parts.map((p) => String(p).replace(/[:\s]/g, '_')).join('.');
}
