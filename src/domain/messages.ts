// Platform-neutral outgoing messages. The domain returns these as data; channel senders render them.
export interface Button {
  text: string;
  key: string; // e.g. "claim:12" — the action a click means
  style?: 'primary' | 'default' | 'danger' | 'muted';
}

export interface Card {
  ref: string; // stable per task and purpose, e.g. "t12"
  title: string;
  description?: string;
  fields: { label: string; value: string }[];
  buttons: Button[];
}

export type Message =
  | { type: 'text'; text: string; mention?: string[] } // mention: person ids
  | { type: 'markdown'; text: string }
  | { type: 'card'; card: Card }
  /** A picture (the digest's chart): PNG bytes as base64, and words for where no picture can be shown. */
  | { type: 'image'; png: string; alt: string }
  /** A photo someone sent, by the hash of its file in the media folder (src/store/media.ts); `alt` where no picture
   * can be shown. The bytes stay out of the queues: each channel reads them when it sends. */
  | { type: 'photo'; photo: string; alt: string };

/** The conversation a message came from, so a reply can go back the way it came. */
export interface ReplyHandle {
  channel: string;
  surface: string;
  chatId: string;
  chatType: 'group' | 'single';
  senderPlatformId: string;
  responseUrl?: string;
  /** When responseUrl stops working (ms since the epoch), where the platform says; the sender then goes another way. */
  responseUrlExpiresAt?: number;
  /** The platform's handle for answering the message over a connection, and until when it works (Envelope). */
  replyRef?: string;
  replyRefExpiresAt?: number;
  envelopeId: string;
}

export type Target =
  | { kind: 'user'; person: string }
  | { kind: 'chat'; chat: string } // a configured chat id (team group, manager group)
  | { kind: 'reply'; handle: ReplyHandle }
  | { kind: 'cards'; ref: string; except?: string } // update the cards already sent with this ref (a task's claim cards: t12)
  | { kind: 'clicked_card'; channel: string; person: string; responseCode: string }; // the card just clicked

export interface Outgoing {
  to: Target;
  message: Message;
  /**
   * Informational only (help, "not understood"): may be folded into a summary when the recipient has too many
   * messages waiting (queues/mailbox.ts). Unset for everything that carries work: task notices, cards, reminders.
   */
  info?: boolean;
}
