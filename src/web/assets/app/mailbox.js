// 驻街规划师信箱: residents write to their street's planner workstation and follow the letter
// by its tracking code. Public GraphQL only: streets, submitLetter, letterStatus.
import { html, render, useState, useEffect, useRef } from '../vendor/htm-preact.module.js';
import { gql, charCount, formatDateTime } from './api.js';

const MAX_CHARS = 2000;

const CATEGORIES = [
  ['CONSULTING', '规划咨询'],
  ['CONSTRUCTION', '建设项目'],
  ['PUBLIC_SPACE', '公共空间与环境'],
  ['TRAFFIC', '交通出行'],
  ['RENOVATION', '小区改造'],
  ['SUGGESTION', '意见建议'],
  ['OTHER', '其他'],
];

const STATUS = { RECEIVED: '已收到，待答复', REPLIED: '已答复', CLOSED: '已办结' };

const STREETS = `query MailboxStreets { streets(first: 100) { nodes { id name communities { id name } } } }`;
const SUBMIT = `mutation SubmitLetter($input: SubmitLetterInput!) { submitLetter(input: $input) { trackingCode } }`;
const STATUS_QUERY = `query LetterStatus($code: String!) {
  letterStatus(trackingCode: $code) { trackingCode streetName status receivedAt reply repliedAt closedAt }
}`;

async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch (e) {
    // fall back below
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.className = 'offscreen';
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch (e) {
    ok = false;
  }
  ta.remove();
  return ok;
}

function Submitted({ code, onAnother, onFollow }) {
  const [copied, setCopied] = useState('');
  const ref = useRef(null);
  useEffect(() => ref.current && ref.current.focus(), []);
  return html`<section class="card done" aria-live="polite">
    <h2 tabindex="-1" ref=${ref}>来信已提交</h2>
    <p>您的查询码：</p>
    <div class="code" id="tracking-code" data-testid="tracking-code">${code}</div>
    <p class="notice">请妥善保存查询码（可截图或抄下）。凭此码可在本页随时查询办理进度和答复；查询码丢失后无法找回。</p>
    <div class="actions">
      <button type="button" onClick=${async () => setCopied((await copyText(code)) ? '已复制查询码' : '复制失败，请长按查询码手动复制')}>复制查询码</button>
      <button type="button" class="secondary" onClick=${() => onFollow(code)}>查询办理进度</button>
    </div>
    ${copied && html`<p class="hint" role="status">${copied}</p>`}
    <div class="actions"><button type="button" class="secondary" onClick=${onAnother}>再写一封</button></div>
  </section>`;
}

function LetterForm({ onSubmitted }) {
  const [streets, setStreets] = useState(null);
  const [loadError, setLoadError] = useState('');
  const [streetId, setStreetId] = useState('');
  const [communityId, setCommunityId] = useState('');
  const [category, setCategory] = useState('');
  const [content, setContent] = useState('');
  const [contact, setContact] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [fieldErrors, setFieldErrors] = useState({});

  const load = () => {
    setLoadError('');
    gql(STREETS)
      .then((d) => setStreets(d.streets.nodes))
      .catch((e) => setLoadError(`街道列表加载失败：${e.message}`));
  };
  useEffect(load, []);

  const street = streets && streets.find((s) => s.id === streetId);
  const used = charCount(content);
  const over = used > MAX_CHARS;

  const validate = () => {
    const f = {};
    if (!streetId) f.streetId = '请选择您所在的街道';
    if (!category) f.category = '请选择来信类别';
    if (!content.trim()) f.content = '请填写来信内容';
    else if (over) f.content = `来信内容最多 ${MAX_CHARS} 字，当前 ${used} 字，请删减 ${used - MAX_CHARS} 字`;
    if (charCount(contact) > 100) f.contact = '联系方式最多 100 字';
    return f;
  };

  const submit = async (ev) => {
    ev.preventDefault();
    setError('');
    const f = validate();
    setFieldErrors(f);
    if (Object.keys(f).length) return;
    setBusy(true);
    try {
      const input = { streetId, category, content };
      if (communityId) input.communityId = communityId;
      if (contact.trim()) input.contact = contact.trim();
      const d = await gql(SUBMIT, { input });
      onSubmitted(d.submitLetter.trackingCode);
    } catch (e) {
      const field = e.extensions && e.extensions.field && String(e.extensions.field).replace(/^input\./, '');
      if (field && ['streetId', 'communityId', 'category', 'content', 'contact'].includes(field)) {
        setFieldErrors({ [field]: e.message });
      } else {
        setError(e.message);
      }
    } finally {
      setBusy(false);
    }
  };

  const fe = (name) => fieldErrors[name] && html`<p class="field-error" id=${name + '-error'} role="alert">${fieldErrors[name]}</p>`;

  return html`<section class="card">
    <h2>写信</h2>
    <form onSubmit=${submit} novalidate>
      ${loadError && html`<div class="error" role="alert">${loadError} <button type="button" class="secondary" onClick=${load}>重试</button></div>`}
      <label for="street">所在街道</label>
      <select id="street" value=${streetId} disabled=${!streets} onChange=${(e) => { setStreetId(e.target.value); setCommunityId(''); }}>
        <option value="">${streets ? '请选择街道' : '正在加载……'}</option>
        ${(streets || []).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
      </select>
      ${fe('streetId')}

      <label for="community">所在社区 <span class="opt">（可不选）</span></label>
      <select id="community" value=${communityId} disabled=${!street} onChange=${(e) => setCommunityId(e.target.value)}>
        <option value="">${street ? '不选择社区' : '请先选择街道'}</option>
        ${(street ? street.communities : []).map((c) => html`<option value=${c.id}>${c.name}</option>`)}
      </select>
      ${fe('communityId')}

      <label for="category">来信类别</label>
      <select id="category" value=${category} onChange=${(e) => setCategory(e.target.value)}>
        <option value="">请选择类别</option>
        ${CATEGORIES.map(([v, t]) => html`<option value=${v}>${t}</option>`)}
      </select>
      ${fe('category')}

      <label for="content">来信内容</label>
      <textarea id="content" value=${content} onInput=${(e) => setContent(e.target.value)}
        aria-describedby="content-count" placeholder="请写下您对街道规划、建设、公共空间等方面的问题或建议"></textarea>
      <div id="content-count" class=${'counter' + (over ? ' over' : '')} aria-live="polite">
        ${over ? `已超出 ${used - MAX_CHARS} 字（${used} / ${MAX_CHARS}）` : `已输入 ${used} / ${MAX_CHARS} 字`}
      </div>
      ${fe('content')}

      <label for="contact">联系方式 <span class="opt">（可不填）</span></label>
      <input id="contact" type="text" inputmode="tel" autocomplete="tel" value=${contact} onInput=${(e) => setContact(e.target.value)} />
      <p class="hint">手机号或电子邮箱，仅街道工作人员和服务本街道的规划师可见，方便进一步沟通。</p>
      ${fe('contact')}

      ${error && html`<div class="error" role="alert">${error}</div>`}
      <div class="actions"><button type="submit" disabled=${busy || over}>${busy ? '正在提交……' : '提交来信'}</button></div>
    </form>
  </section>`;
}

function Follow({ initial }) {
  const [code, setCode] = useState(initial || '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [letter, setLetter] = useState(null);

  const lookup = async (value) => {
    const c = (value || '').trim();
    setError('');
    setLetter(null);
    if (!c) {
      setError('请输入查询码');
      return;
    }
    setBusy(true);
    try {
      const d = await gql(STATUS_QUERY, { code: c });
      setLetter(d.letterStatus);
    } catch (e) {
      setError(e.code === 'NOT_FOUND' ? '未找到该查询码对应的来信，请核对查询码后重试。' : e.message);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => {
    if (initial) {
      setCode(initial);
      lookup(initial);
    }
  }, [initial]);

  return html`<section class="card" id="follow">
    <h2>查询办理进度</h2>
    <form onSubmit=${(e) => { e.preventDefault(); lookup(code); }} novalidate>
      <label for="lookup-code">查询码</label>
      <input id="lookup-code" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false" value=${code}
        onInput=${(e) => setCode(e.target.value)} placeholder="提交来信后获得的查询码" />
      <div class="actions"><button type="submit" disabled=${busy}>${busy ? '正在查询……' : '查询'}</button></div>
    </form>
    ${error && html`<div class="error" role="alert">${error}</div>`}
    ${letter && html`<div class="result" data-testid="letter-status" aria-live="polite">
      <dl class="facts">
        <dt>查询码</dt><dd>${letter.trackingCode}</dd>
        <dt>街道</dt><dd>${letter.streetName}</dd>
        <dt>状态</dt><dd><span class=${'status ' + letter.status}>${STATUS[letter.status] || letter.status}</span></dd>
        <dt>收到时间</dt><dd>${formatDateTime(letter.receivedAt)}</dd>
        ${letter.repliedAt && html`<dt>答复时间</dt><dd>${formatDateTime(letter.repliedAt)}</dd>`}
        ${letter.closedAt && html`<dt>办结时间</dt><dd>${formatDateTime(letter.closedAt)}</dd>`}
      </dl>
      ${letter.reply ? html`<div class="reply"><strong>答复：</strong>${'\n'}${letter.reply}</div>` : html`<p class="hint">规划师尚未答复，请耐心等待。</p>`}
    </div>`}
  </section>`;
}

function App() {
  const params = new URLSearchParams(location.search);
  const [submitted, setSubmitted] = useState('');
  const [follow, setFollow] = useState(params.get('code') || '');
  const goFollow = (code) => {
    setFollow(code);
    setTimeout(() => {
      const el = document.getElementById('follow');
      if (el) el.scrollIntoView({ behavior: 'smooth' });
    }, 0);
  };
  return html`
    <header class="bar"><h1>驻街规划师信箱</h1><p>滨江区驻街规划师工作站 · 向社区居民公开</p></header>
    <main>
      ${submitted
        ? html`<${Submitted} code=${submitted} onAnother=${() => setSubmitted('')} onFollow=${goFollow} />`
        : html`<${LetterForm} onSubmitted=${setSubmitted} />`}
      <${Follow} initial=${follow} />
    </main>
    <footer>来信由所在街道的驻街规划师和工作人员处理。本页不显示任何来信人的个人信息。</footer>`;
}

render(html`<${App} />`, document.getElementById('app'));
