// The pure parts of the outbox's mailboxes: which recipient a message waits for, what counts as identical, and what a
// summary of folded messages says.
import { describe, expect, it } from 'vitest';
import type { Outgoing, ReplyHandle } from '../../src/domain/messages.js';
import { Outcome } from '../../src/domain/outcome.js';
import { boxOf, signature, summaryLine, summaryText } from '../../src/queues/mailbox.js';
import { mergeReplies } from '../../src/queues/merge.js';

const handle = (envelopeId: string, sender = 'WangLi'): ReplyHandle => ({
  channel: 'wecom',
  surface: 'aibot',
  chatId: 'wrGroup',
  chatType: 'group',
  senderPlatformId: sender,
  responseUrl: `https://x/${envelopeId}`,
  envelopeId,
});

describe('mailbox helpers', () => {
  it('a reply waits in its sender’s box whatever message it answers; a clicked card in none', () => {
    const a = boxOf('wecom', { kind: 'reply', handle: handle('e1') });
    expect(a).toBe(boxOf('wecom', { kind: 'reply', handle: handle('e2') }));
    expect(a).not.toBe(boxOf('wecom', { kind: 'reply', handle: handle('e1', 'LiNa') }));
    expect(boxOf('wecom', { kind: 'user', person: 'li_sf' })).not.toBe(
      boxOf('dingtalk', { kind: 'user', person: 'li_sf' }),
    );
    expect(boxOf('wecom', { kind: 'clicked_card', channel: 'wecom', person: 'x', responseCode: 'c' })).toBeUndefined();
  });

  it('identical means the same message, wherever in the box it goes', () => {
    const m = (text: string, e: string): Outgoing => ({
      to: { kind: 'reply', handle: handle(e) },
      message: { type: 'text', text },
    });
    expect(signature(m('你好', 'e1'))).toBe(signature(m('你好', 'e2')));
    expect(signature(m('你好', 'e1'))).not.toBe(signature(m('你好！', 'e1')));
  });

  it('a summary shows the first lines, shortened, and counts the rest', () => {
    const long: Outgoing = {
      to: { kind: 'user', person: 'p' },
      message: { type: 'text', text: `没看懂\n${'很长'.repeat(50)}` },
    };
    expect(summaryLine(long)).toHaveLength(60);
    expect(summaryLine(long).startsWith('没看懂 很长')).toBe(true);
    const text = summaryText({ n: 10, lines: ['一', '二'] });
    expect(text.split('\n')).toEqual(['📮 消息较多，以下 10 条提示合并为一条发送：', '· 一', '· 二', '……另有 8 条']);
  });

  it('merged replies stay informational only if every part was', () => {
    const o = new Outcome(handle('e1')).inform('帮助');
    expect(mergeReplies(o.messages)[0].info).toBe(true);
    o.reply('✅ 已登记 #3');
    const [merged] = mergeReplies(o.messages);
    expect(merged.info).toBeUndefined();
    expect(merged.message).toEqual({ type: 'text', text: '帮助\n\n✅ 已登记 #3' });
  });
});
