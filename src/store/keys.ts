// Every Redis key of a site, under its prefix (store/layout.ts: the configured prefix for a one-site install, with
// the site's hash tag in a district; tests use their own). What sites share (received messages, queues) is in
// queues/shared.ts.
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
    /** A task as a message first read it, and the steps that message made on it (store/tasks.ts: asSeenBy). */
    seenBy: (id: number, msg: string) => `${p}task:${id}:seen:${msg}`,
    stepBy: (id: number, msg: string, to: string) => `${p}task:${id}:step:${msg}:${to}`,
    pending: (chat: string, person: string) => `${p}pending:${chat}:${person}`,
    cards: (ref: string) => `${p}cards:${ref}`, // response_codes of the cards sent with this ref, by person
    rate: (bucket: string) => `${p}rate:${bucket}`,
    token: (app: string) => `${p}token:${app}`,
    tokenLock: (app: string) => `${p}token:${app}:lock`,
    sent: (jobId: string) => `${p}sent:${jobId}`,
    nudge: (id: number, person: string) => `${p}nudge:${id}:${person}`,
    /** People who reported the same problem again and were added to the task instead of opening a second one. */
    followers: (id: number) => `${p}task:${id}:followers`,
    /** The open task of a kind at a place and trade, for folding a second report of the same thing into it. */
    sameProblem: (kind: string, place: string, trade: string) => `${p}same:${kind}:${place}:${trade}`,
    /** The report a person's message was just folded into, for 不是同一个 (split it off). */
    folded: (person: string) => `${p}folded:${person}`,
    /** The platform a person last wrote from: their direct messages go there when more than one can reach them. */
    via: (person: string) => `${p}via:${person}`,
    /** The report the bot asked a person to confirm ("是要报修…吗？"), one per person. */
    ask: (person: string) => `${p}ask:${person}`,
    /** Messages the bot could not read, and reports people said 不是 to: hash id → JSON, and ids by time. */
    unread: `${p}unread`,
    unreadIds: `${p}unread:ids`,
    unreadSeq: `${p}unread:seq`,
  };
}
export type Keys = ReturnType<typeof keys>;
