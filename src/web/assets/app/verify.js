// 聘期考核表核验: the QR code on a finalized scorecard points here (/verify/{核验码}). Shows
// only what the public `verifyScorecard` query answers: planner, street, term, total, grade
// and finalization date, or 未找到.
import { html, render, useState, useEffect } from '../vendor/htm-preact.module.js';
import { gql, formatDateTime } from './api.js';

const GRADES = { EXCELLENT: '优秀', QUALIFIED: '合格', UNQUALIFIED: '不合格' };

const VERIFY = `query VerifyScorecard($code: String!) {
  verifyScorecard(code: $code) { valid plannerName streetName termStart termEnd total grade finalizedAt }
}`;

function codeFromPath() {
  const raw = location.pathname.replace(/^\/verify\//, '');
  try {
    return decodeURIComponent(raw).trim();
  } catch (e) {
    return raw.trim();
  }
}

function term(start, end) {
  const ym = (d) => {
    const [y, m] = d.split('-').map(Number);
    return `${y}年${m}月`;
  };
  return start && end ? `${ym(start)}—${ym(end)}` : '';
}

function App() {
  const code = codeFromPath();
  const [state, setState] = useState({ loading: true });
  const [other, setOther] = useState('');

  useEffect(() => {
    if (!code) {
      setState({ error: '链接中缺少核验码。' });
      return;
    }
    gql(VERIFY, { code })
      .then((d) => setState({ result: d.verifyScorecard }))
      .catch((e) => setState({ error: e.message }));
  }, []);

  const r = state.result;
  return html`
    <header class="bar"><h1>聘期考核表核验</h1><p>滨江区驻街规划师聘期考核</p></header>
    <main>
      <section class="card" aria-live="polite" data-testid="verification">
        <p class="hint">核验码：<strong>${code}</strong></p>
        ${state.loading && html`<p>正在核验……</p>`}
        ${state.error && html`<div class="error" role="alert">${state.error}</div>`}
        ${r && r.valid && html`
          <p class="verdict valid">核验通过：此考核表已由区规划资源分局定稿</p>
          <dl class="facts">
            <dt>驻街规划师</dt><dd>${r.plannerName}</dd>
            <dt>服务街道</dt><dd>${r.streetName}</dd>
            <dt>聘期</dt><dd>${term(r.termStart, r.termEnd)}</dd>
            <dt>考核总分</dt><dd>${r.total == null ? '—' : r.total}</dd>
            <dt>考核等次</dt><dd>${GRADES[r.grade] || '—'}</dd>
            <dt>定稿日期</dt><dd>${r.finalizedAt ? formatDateTime(r.finalizedAt).split(' ')[0] : '—'}</dd>
          </dl>
          <p class="hint">请核对纸面考核表上的姓名、街道、聘期、总分和等次与上面一致。</p>`}
        ${r && !r.valid && html`
          <p class="verdict invalid">未找到</p>
          <p>该核验码不对应任何已定稿的考核表。请核对考核表页脚的核验码；如有疑问，请联系区规划资源分局。</p>`}
      </section>
      <section class="card">
        <h2>核验其他考核表</h2>
        <form onSubmit=${(e) => {
          e.preventDefault();
          if (other.trim()) location.assign('/verify/' + encodeURIComponent(other.trim()));
        }}>
          <label for="other-code">核验码</label>
          <input id="other-code" type="text" autocomplete="off" spellcheck="false" value=${other} onInput=${(e) => setOther(e.target.value)} />
          <div class="actions"><button type="submit">核验</button></div>
        </form>
      </section>
    </main>
    <footer>本页只显示核验所需的信息。</footer>`;
}

render(html`<${App} />`, document.getElementById('app'));
