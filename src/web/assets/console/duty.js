// 工作台账: import a duty log (dry run first, then 导入) and download the ledgers.
// For the bureau, street staff and planners (planners import their own work).
import { html, useState } from '../vendor/htm-preact.module.js';
import { ImportFlow, DownloadButton } from './ui.js';

const REPORT = `dryRun rowsRead created updated unchanged sha256
  errors { sheet row column code message } errorRows { sheet row cells { column header value } }
  skippedSheets { sheet reason } ignoredColumns { sheet column header }`;
const IMPORT = `mutation ImportDutyLog($file: Upload!, $dryRun: Boolean) { importDutyLog(file: $file, dryRun: $dryRun) { ${REPORT} } }`;

const LEDGERS = [
  ['duty-log', '工作台账'],
  ['problems', '问题清单'],
  ['demands', '需求清单'],
  ['letters', '信箱来信'],
  ['meetings', '工作例会'],
];

export function DutyScreen() {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const q = () => {
    const p = new URLSearchParams();
    if (from) p.set('from', from);
    if (to) p.set('to', to);
    const s = p.toString();
    return s ? `?${s}` : '';
  };
  return html`<h2 class="screen">工作台账</h2>
    <${ImportFlow} title="导入工作台账" mutation=${IMPORT} field="importDutyLog"
      hint="按列名识别日期、规划师、街道、社区、工作类别、工作内容、参加人数、出勤等；重复导入不会重复记录。" />
    <section class="card">
      <h2>台账下载（可打印）</h2>
      <div class="row">
        <span><label for="ledger-from">起始日期</label><input id="ledger-from" type="date" value=${from} onInput=${(e) => setFrom(e.target.value)} /></span>
        <span><label for="ledger-to">截止日期</label><input id="ledger-to" type="date" value=${to} onInput=${(e) => setTo(e.target.value)} /></span>
      </div>
      <p class="hint">不填日期则包含全部记录；范围为您有权查看的街道。</p>
      <div class="actions left">
        ${LEDGERS.map(([f, label]) => html`<${DownloadButton} path=${() => `/exports/ledgers/${f}.xlsx${q()}`} testid=${'ledger-' + f}>${label}<//>`)}
      </div>
    </section>`;
}
