// Shared pieces of the console's screens: labels of the API's enums in Chinese, dates,
// the error box, the download button, lists read page by page, and the file import flow
// (roster and duty log).
import { html, useState, useRef, useEffect } from '../vendor/htm-preact.module.js';
import { download, upload, gql } from './api.js';

export { html };

export const ROLE = {
  DISTRICT_ADMIN: '区规划资源分局',
  STREET_STAFF: '街道工作人员',
  PLANNER: '规划师',
  VIEWER: '领导（只读）',
};
export const TEAM_ROLE = { LEAD: '驻街规划师', MEMBER: '团队成员', COMMUNITY_PLANNER: '社区规划师' };
export const SPECIALTY = {
  PLANNING: '城乡规划', ARCHITECTURE: '建筑', LANDSCAPE: '风景园林', WATER: '给排水',
  ELECTRICAL: '电气', MUNICIPAL: '市政', OTHER: '其他',
};
export const ASSESSMENT_STATUS = { DRAFT: '评分中', SUBMITTED: '已提交区分局', FINALIZED: '已定稿' };
export const GRADE = { EXCELLENT: '优秀', QUALIFIED: '合格', UNQUALIFIED: '不合格' };
export const LETTER_STATUS = { RECEIVED: '待答复', REPLIED: '已答复', CLOSED: '已办结' };
export const LETTER_CATEGORY = {
  CONSULTING: '规划咨询', CONSTRUCTION: '建设项目', PUBLIC_SPACE: '公共空间与环境', TRAFFIC: '交通出行',
  RENOVATION: '小区改造', SUGGESTION: '意见建议', OTHER: '其他',
};
export const DUTY_KIND = {
  GUIDANCE_OPINION: '指导意见', PROJECT_CONSULTING: '项目咨询', DESIGN_REVIEW: '方案及初步设计审查',
  DESIGN_MANAGEMENT: '设计管理', SITE_COORDINATION: '现场技术协调', DEPARTMENT_LIAISON: '部门沟通协调',
  PUBLIC_EVENT: '宣传培训活动', DEMAND_COLLECTION: '收集居民诉求', PETITION_ANSWER: '信访答疑',
  WORKSTATION_ATTENDANCE: '工作站出勤',
};

/// A timestamp as Beijing time, e.g. 2026-12-02 14:05.
export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d)) return iso;
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('zh-CN', {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
    }).formatToParts(d).map((x) => [x.type, x.value])
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/// Today in China Standard Time, YYYY-MM-DD.
export function today() {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

export const num = (x) => (x === null || x === undefined ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(1));
export const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">${error.message || String(error)}</div>`;
}

/// A connection read page by page (Relay cursors): `query` takes `$first` and `$after` beside
/// `vars`, and `pick(data)` is its connection with `nodes`, `totalCount` and
/// `pageInfo { hasNextPage endCursor }`. It starts again from the first page whenever `deps`
/// change; `more()` appends the next page (rows already shown are not repeated), `update(f)`
/// changes the rows in place (a live letter, an edited row).
export function usePaged(query, vars, pick, deps, pageSize = 20) {
  const [state, setState] = useState({ nodes: null, total: 0, end: null, hasNext: false });
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState(null);
  const generation = useRef(0);
  const load = async (after) => {
    const mine = generation.current;
    setLoading(true);
    setError(null);
    try {
      const c = pick(await gql(query, { ...vars, first: pageSize, after }));
      if (mine !== generation.current) return;
      setState((s) => {
        const seen = new Set(after && s.nodes ? s.nodes.map((n) => n.id) : []);
        const nodes = after && s.nodes ? [...s.nodes, ...c.nodes.filter((n) => !seen.has(n.id))] : c.nodes;
        return { nodes, total: c.totalCount, end: c.pageInfo.endCursor, hasNext: c.pageInfo.hasNextPage };
      });
    } catch (e) {
      if (mine === generation.current) setError(e);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  };
  useEffect(() => {
    generation.current += 1;
    setState({ nodes: null, total: 0, end: null, hasNext: false });
    load(null);
  }, deps);
  return {
    ...state,
    loading,
    error,
    more: () => load(state.end),
    update: (f) => setState((s) => ({ ...s, nodes: s.nodes && f(s.nodes) })),
    added: (n) => setState((s) => ({ ...s, total: s.total + n })),
  };
}

/// 加载更多 under a paged list, with how many of how many are shown; nothing once all are.
export function MoreButton({ list, testid }) {
  if (!list.nodes || !list.hasNext) return null;
  return html`<div class="actions left more">
    <button class="secondary" data-testid=${testid || 'more'} disabled=${list.loading} onClick=${list.more}>
      ${list.loading ? '加载中…' : `加载更多（已显示 ${list.nodes.length} 条，共 ${list.total} 条）`}</button></div>`;
}

/// A button that downloads an export through a one-time link.
export function DownloadButton({ path, children, testid }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState(null);
  const go = async () => {
    setBusy(true);
    setErr(null);
    try {
      await download(typeof path === 'function' ? path() : path);
    } catch (e) {
      setErr(e);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="dl"><button class="secondary" data-testid=${testid} disabled=${busy} onClick=${go}>${children}</button>${err && html`<span class="field-error">${err.message}</span>`}</span>`;
}

/// A located problem's row as the server's importer read it (the report's `errorRows`), its
/// faulty column marked.
function RowView({ view, problem }) {
  if (!view) return null;
  if (view.error) return html`<div class="error">${view.error}</div>`;
  return html`<div class="rowview" data-testid="row-view">
    <h4>工作表“${view.sheet}”第 ${view.row} 行（导入程序读到的内容）</h4>
    <div class="scroll"><table class="grid">
      <thead><tr>${view.cells.map((c) => html`<th class=${c.column === problem.column ? 'bad' : ''}>${c.column}${c.header ? html`<br/><small>${c.header}</small>` : ''}</th>`)}</tr></thead>
      <tbody><tr>${view.cells.map((c) => html`<td class=${c.column === problem.column ? 'bad' : ''}>${String(c.value)}</td>`)}</tr></tbody>
    </table></div>
  </div>`;
}

/// The report of a dry run or an import: what would change and every located problem.
export function Report({ report, onPick }) {
  const [picked, setPicked] = useState(null);
  const [view, setView] = useState(null);
  const show = (p, i) => {
    setPicked(i);
    setView(null);
    if (!p.row) return;
    const row = (report.errorRows || []).find((r) => r.sheet === p.sheet && r.row === p.row);
    setView(row || { error: '该行未随报告返回（报告只附带前 200 个问题行），请在文件中查看。' });
    if (onPick) onPick(p);
  };
  const errs = report.errors || [];
  return html`<div class="report" data-testid="import-report">
    <table class="summary"><tbody>
      <tr><th>读取数据行</th><td data-testid="rows-read">${report.rowsRead}</td>
        <th>${report.dryRun ? '将新增' : '新增'}</th><td data-testid="created">${report.created}</td>
        <th>${report.dryRun ? '将更新' : '更新'}</th><td data-testid="updated">${report.updated}</td>
        <th>无变化</th><td data-testid="unchanged">${report.unchanged}</td>
        <th>问题</th><td data-testid="error-count" class=${errs.length ? 'bad' : ''}>${errs.length}</td></tr>
    </tbody></table>
    ${(report.notices || []).length > 0 &&
    html`<div class="notice warn" data-testid="import-notices" role="status">
      <strong>${report.dryRun ? '导入前请确认：' : '本次导入已：'}</strong>
      <ul>${report.notices.map((n) => html`<li>${n.sheet ? `工作表“${n.sheet}”` : ''}${n.row ? `第 ${n.row} 行：` : ''}${n.message}</li>`)}</ul></div>`}
    ${(report.skippedSheets || []).length > 0 &&
    html`<p class="hint">未读取的工作表：${report.skippedSheets.map((s) => `“${s.sheet}”（${s.reason}）`).join('；')}</p>`}
    ${(report.ignoredColumns || []).length > 0 &&
    html`<p class="hint">未识别而忽略的列：${report.ignoredColumns.map((c) => `“${c.sheet}”${c.column} 列“${c.header}”`).join('；')}</p>`}
    ${errs.length > 0 &&
    html`<h3>发现 ${errs.length} 个问题（未写入任何数据），请修改文件后重新上传。点击问题查看该行：</h3>
      <div class="scroll"><table class="grid problems" data-testid="problems">
        <thead><tr><th>工作表</th><th>行</th><th>列</th><th>问题</th></tr></thead>
        <tbody>${errs.map(
          (p, i) => html`<tr class=${'clickable' + (picked === i ? ' picked' : '')} onClick=${() => show(p, i)} tabindex="0"
              onKeyDown=${(e) => e.key === 'Enter' && show(p, i)}>
            <td>${p.sheet}</td><td>${p.row ?? '—'}</td><td>${p.column ?? '—'}</td><td>${p.message}</td></tr>`
        )}</tbody>
      </table></div>
      ${picked !== null && html`<${RowView} view=${view} problem=${errs[picked]} />`}`}
  </div>`;
}

/// Choose or drop a file, check it (dry run) with an upload progress bar, then apply it.
/// `mutation` takes `$file: Upload!` and `$dryRun: Boolean`; `after` runs after an import.
export function ImportFlow({ title, mutation, field, accept, after, hint }) {
  const [file, setFile] = useState(null);
  const [progress, setProgress] = useState(null);
  const [report, setReport] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [over, setOver] = useState(false);
  const [done, setDone] = useState(null);
  const input = useRef(null);

  const run = async (f, dryRun) => {
    setBusy(true);
    setError(null);
    setProgress(0);
    if (dryRun) setReport(null);
    try {
      const d = await upload(mutation, { dryRun }, 'file', f, setProgress);
      const r = d[field];
      setReport(r);
      if (!dryRun && r.errors.length === 0) {
        setDone(r);
        if (after) after(r);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const choose = (f) => {
    if (!f) return;
    setFile(f);
    setDone(null);
    run(f, true);
  };
  const ok = report && report.dryRun && report.errors.length === 0;
  return html`<section class="card">
    <h2>${title}</h2>
    ${hint && html`<p class="hint">${hint}</p>`}
    <div class=${'drop' + (over ? ' over' : '')} data-testid="dropzone"
      onDragOver=${(e) => { e.preventDefault(); setOver(true); }}
      onDragLeave=${() => setOver(false)}
      onDrop=${(e) => { e.preventDefault(); setOver(false); choose(e.dataTransfer.files[0]); }}>
      <p>将 Excel 文件拖到此处，或 <button class="secondary" onClick=${() => input.current.click()}>选择文件</button></p>
      <p class="hint">支持 .xlsx、.xls、.ods、.csv。上传后先检查（试导入），确认无误再导入。</p>
      <input type="file" ref=${input} accept=${accept || '.xlsx,.xls,.ods,.csv'} class="offscreen" aria-label="选择文件"
        data-testid="file-input" onChange=${(e) => { choose(e.target.files[0]); e.target.value = ''; }} />
    </div>
    ${file && html`<p>文件：<strong>${file.name}</strong>（${(file.size / 1024).toFixed(1)} KB）</p>`}
    ${progress !== null && busy &&
    html`<div class="progress" role="progressbar" aria-label="上传进度" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(progress * 100)}>
      <div class="bar" style=${{ width: `${Math.round(progress * 100)}%` }}></div>
      <span>${progress < 1 ? `上传中 ${Math.round(progress * 100)}%` : '服务器检查中…'}</span></div>`}
    <${ErrorBox} error=${error} />
    ${report && html`<${Report} report=${report} />`}
    ${ok && html`<div class="actions"><button data-testid="apply-import" disabled=${busy} onClick=${() => run(file, false)}>导入</button></div>`}
    ${done && html`<p class="notice" data-testid="import-done">导入完成：新增 ${done.created} 行，更新 ${done.updated} 行，无变化 ${done.unchanged} 行。</p>`}
  </section>`;
}
