// 信箱: letters to the mailboxes the user may read, new ones arriving live (the
// `letterReceived` subscription over /graphql/ws), reply, close, turn into a demand.
import { html, useState, useEffect, useRef } from '../vendor/htm-preact.module.js';
import { gql, subscribe } from './api.js';
import { ErrorBox, MoreButton, usePaged, LETTER_STATUS, LETTER_CATEGORY, dateTime } from './ui.js';

const LETTER = `id trackingCode street { id name } community { name } category content contact viewerCanSeeContact viewerCanReply
  status reply receivedAt repliedAt closedAt demand { id status }`;
const LIST = `query Letters($filter: LetterFilter, $first: Int, $after: String) {
  letters(filter: $filter, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { ${LETTER} } } }`;
const LIVE = `subscription LetterReceived { letterReceived { ${LETTER} } }`;
const REPLY = `mutation Reply($input: ReplyLetterInput!) { replyLetter(input: $input) { letter { ${LETTER} } } }`;
const CLOSE = `mutation Close($id: ID!) { closeLetter(id: $id) { letter { ${LETTER} } } }`;
const DEMAND = `mutation Demand($input: CreateDemandFromLetterInput!) { createDemandFromLetter(input: $input) { demand { id letter { ${LETTER} } } } }`;

function Letter({ l, fresh, onChange }) {
  const [reply, setReply] = useState(l.reply || '');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  // 办结 and 转为需求 cannot be undone: each asks once more, saying what it does.
  const [asking, setAsking] = useState(null);
  const act = async (f) => {
    setAsking(null);
    setBusy(true);
    setError(null);
    try {
      onChange(await f());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<article class=${'letter card' + (fresh ? ' fresh' : '')} data-testid="letter" data-code=${l.trackingCode}>
    <header><span class=${'status ' + l.status}>${LETTER_STATUS[l.status]}</span>
      ${fresh && html`<span class="badge" data-testid="new-letter">新来信</span>`}
      <strong>${l.street.name}${l.community ? ' · ' + l.community.name : ''}</strong> · ${LETTER_CATEGORY[l.category] || l.category}
      <span class="hint">查询码 ${l.trackingCode} · ${dateTime(l.receivedAt)}</span></header>
    <p class="content">${l.content}</p>
    ${l.viewerCanSeeContact && l.contact && html`<p class="hint">联系方式：${l.contact}</p>`}
    ${l.reply && l.status === 'CLOSED' && html`<div class="reply">答复：${l.reply}</div>`}
    ${l.demand && html`<p class="hint">已转为需求清单事项。</p>`}
    ${l.viewerCanReply && l.status !== 'CLOSED' && html`<div>
      <label for=${'reply-' + l.id}>答复${l.status === 'REPLIED' ? '（再次答复将替换原答复）' : ''}</label>
      <textarea id=${'reply-' + l.id} class="short" value=${reply} onInput=${(e) => setReply(e.target.value)}></textarea>
      <div class="actions left">
        <button disabled=${busy || !reply.trim()} onClick=${() => act(async () => (await gql(REPLY, { input: { id: l.id, reply: reply.trim() } })).replyLetter.letter)}>答复</button>
        ${l.status === 'REPLIED' && html`<button class="secondary" disabled=${busy} onClick=${() => setAsking('close')}>办结</button>`}
        ${!l.demand && html`<button class="secondary" disabled=${busy} onClick=${() => setAsking('demand')}>转为需求</button>`}
      </div>
      ${asking && html`<div class="notice" role="alertdialog" data-testid="letter-confirm">
        <p>${asking === 'close'
          ? '办结后，这封来信不能再答复，居民查询时将看到“已办结”和现在的答复。确认办结？'
          : '将把这封来信列入街道的需求清单（需求清单中可继续跟踪处理）。确认转为需求？'}</p>
        <div class="actions left">
          <button disabled=${busy} onClick=${() => (asking === 'close'
            ? act(async () => (await gql(CLOSE, { id: l.id })).closeLetter.letter)
            : act(async () => (await gql(DEMAND, { input: { letterId: l.id } })).createDemandFromLetter.demand.letter))}>
            ${asking === 'close' ? '确认办结' : '确认转为需求'}</button>
          <button class="secondary" onClick=${() => setAsking(null)}>取消</button>
        </div></div>`}
      </div>`}
    <${ErrorBox} error=${error} />
  </article>`;
}

export function MailboxScreen() {
  const [fresh, setFresh] = useState(new Set());
  const [status, setStatus] = useState('');
  const [error, setError] = useState(null);
  const [live, setLive] = useState('connecting');
  // Newest first, page by page; a letter arriving live goes on top (a cursor is a position
  // in the list, so the next page still starts where the last one ended).
  const letters = usePaged(LIST, { filter: status ? { status } : null }, (d) => d.letters, [status]);
  const statusRef = useRef(status);
  statusRef.current = status;
  useEffect(() => {
    const stop = subscribe(LIVE, {}, {
      next: (d) => {
        const l = d.letterReceived;
        setLive('on');
        setFresh((f) => new Set(f).add(l.id));
        if (!statusRef.current || statusRef.current === l.status) {
          letters.update((ls) => (ls.some((x) => x.id === l.id) ? ls : [l, ...ls]));
          letters.added(1);
        }
      },
      error: (e) => { setLive('off'); setError(e); },
      connected: (up) => setLive(up ? 'on' : 'off'),
    });
    return stop;
  }, []);
  const replace = (l) => letters.update((ls) => ls.map((x) => (x.id === l.id ? l : x)));
  const shown = letters.nodes ? letters.nodes.filter((l) => !status || l.status === status) : [];
  return html`<h2 class="screen">信箱</h2>
    <section class="card">
      <div class="row">
        <span><label for="mb-status">状态</label>
          <select id="mb-status" value=${status} onChange=${(e) => setStatus(e.target.value)}>
            <option value="">全部</option>${Object.entries(LETTER_STATUS).map(([k, v]) => html`<option value=${k}>${v}</option>`)}
          </select></span>
        <span class="hint" data-testid="live-state" data-live=${live}>${live === 'on' ? '已连接：新来信将实时显示，无需刷新' : live === 'off' ? '实时接收已中断，正在重连…' : '正在连接实时接收…'}</span>
        ${letters.nodes && html`<span class="hint" data-testid="letter-count">共 ${letters.total} 封</span>`}
      </div>
      <${ErrorBox} error=${error || letters.error} />
    </section>
    ${letters.nodes && shown.length === 0 && html`<p class="hint">没有来信。</p>`}
    <div data-testid="letters">${shown.map((l) => html`<${Letter} key=${l.id} l=${l} fresh=${fresh.has(l.id)} onChange=${replace} />`)}</div>
    <${MoreButton} list=${letters} testid="more-letters" />`;
}
