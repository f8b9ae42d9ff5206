// Every Redis key Houqin writes, under one configurable prefix (tests use their own).
export function keys(prefix: string) {
  const p = `${prefix}:`;
  return {
    prefix,
    taskSeq: `${p}task:seq`,
    task: (id: number) => `${p}task:${id}`,
    taskLog: (id: number) => `${p}task:${id}:log`,
    active: `${p}tasks:active`,
    closed: `${p}tasks:closed`,
    byPerson: (person: string) => `${p}tasks:by:${person}`,
    createdBy: (sourceId: string) => `${p}msgtask:${sourceId}`,
    pending: (chat: string, person: string) => `${p}pending:${chat}:${person}`,
    cards: (ref: string) => `${p}cards:${ref}`, // response_codes of the cards sent with this ref, by person
    /** Received messages on their way to the inbox queue (queues/handoff.ts → queues/pump.ts). */
    ingress: `${p}ingress`,
    /** A received message id, remembered a day against repeated deliveries. */
    seen: (envelopeId: string) => `${p}seen:${envelopeId}`,
    nonce: (surface: string, sig: string) => `${p}nonce:${surface}:${sig}`,
    rate: (bucket: string) => `${p}rate:${bucket}`,
    token: (app: string) => `${p}token:${app}`,
    tokenLock: (app: string) => `${p}token:${app}:lock`,
    sent: (jobId: string) => `${p}sent:${jobId}`,
    nudge: (id: number, person: string) => `${p}nudge:${id}:${person}`,
  };
}
export type Keys = ReturnType<typeof keys>;
