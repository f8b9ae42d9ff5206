// A platform-neutral Card as the variables of Houqin's DingTalk card template (config/dingtalk-card-template.json,
// imported once by an admin in the card platform, 卡片平台). The template and this file are one contract: the names
// here are the template's variables, and test/unit/dingtalk-card-template.test.ts holds them to it both ways.
//
// The card API takes every value as a string, a boolean as "true" / "false", at most 1 KB a value
// (https://open.dingtalk.com/document/orgapp/instructions-for-filling-in-api-card-data). A button that calls back is
// one of three fixed slots: its label, whether it shows, and the key its click sends back (the template's button
// passes `btnN_key` as the callback parameter `key`). A card whose buttons are all `noop:` (已接单, 已记录 …) shows
// their words as the status line instead, with no button.
import type { Button, Card } from '../../domain/messages.js';
import { fitBytes } from '../../util/text.js';
import { commandFor } from './render.js';

/** Button slots in the template. The domain's cards have at most two live buttons. */
export const MAX_BUTTONS = 3;

const buttonVariables = Array.from({ length: MAX_BUTTONS }, (_, i) => [
  `btn${i + 1}_text`,
  `btn${i + 1}_key`,
  `btn${i + 1}_show`,
]).flat();

/** Every variable the code fills, in the template's order. */
export const CARD_VARIABLES = ['title', 'content', 'status', ...buttonVariables] as const;

export type CardParams = Record<string, string>;

/** The card API's limit for one value is 1 KB; a little room is kept for the JSON around it. */
const VALUE_BYTES = 1000;

const live = (b: Button) => !b.key.startsWith('noop');

/** The template's variables for a card: every variable gets a value, so an update leaves nothing from before. */
export function cardParams(card: Card): CardParams {
  const buttons = card.buttons.filter(live);
  const shown = buttons.slice(0, MAX_BUTTONS);
  const lines: string[] = [];
  if (card.description) lines.push(...card.description.split('\n').filter((l) => l.trim()));
  for (const f of card.fields) lines.push(`**${f.label}**：${f.value}`);
  // Never more than the slots today; should a card ever have more, the rest are named as text to type.
  const extra = buttons
    .slice(MAX_BUTTONS)
    .map(commandFor)
    .filter((x): x is string => !!x);
  if (extra.length) lines.push(`也可回复 ${extra.map((x) => `「${x}」`).join(' 或 ')}`);
  const params: CardParams = {
    title: fitBytes(card.title, 200),
    // DingTalk markdown needs a blank line between lines (protocols/dingtalk.md §10).
    content: fitBytes(lines.join('\n\n'), VALUE_BYTES),
    status: fitBytes(
      card.buttons
        .filter((b) => !live(b))
        .map((b) => b.text)
        .join(' · '),
      200,
    ),
  };
  for (let i = 0; i < MAX_BUTTONS; i++) {
    const b = shown[i];
    params[`btn${i + 1}_text`] = b ? fitBytes(b.text, 60) : '';
    params[`btn${i + 1}_key`] = b ? b.key : '';
    params[`btn${i + 1}_show`] = b ? 'true' : 'false';
  }
  return params;
}

/** The keys of the buttons a card shows, by slot: a click that names only its slot (btn2) is read with these. */
export function buttonKeys(card: Card): string[] {
  return card.buttons
    .filter(live)
    .slice(0, MAX_BUTTONS)
    .map((b) => b.key);
}
