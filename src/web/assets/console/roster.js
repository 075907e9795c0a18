// 花名册: import a roster (dry run first, then 导入), the import history, the roster and its
// template for download. For the bureau and street staff.
import { html, useState } from '../vendor/htm-preact.module.js';
import { ImportFlow, DownloadButton, ErrorBox, MoreButton, usePaged, dateTime } from './ui.js';

const REPORT = `dryRun rowsRead created updated unchanged sha256
  errors { sheet row column code message } errorRows { sheet row cells { column header value } } notices { sheet row code message }
  skippedSheets { sheet reason } ignoredColumns { sheet column header }`;
const IMPORT = `mutation ImportRoster($file: Upload!, $dryRun: Boolean) { importRoster(file: $file, dryRun: $dryRun) { ${REPORT} import { id } } }`;
const HISTORY = `query RosterImports($first: Int, $after: String) { rosterImports(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id fileName rowsRead created updated unchanged createdAt importedBy } } }`;

function History({ version }) {
  const list = usePaged(HISTORY, {}, (d) => d.rosterImports, [version]);
  const rows = list.nodes;
  return html`<section class="card">
    <h2>导入记录${rows ? `（共 ${list.total} 次）` : ''}</h2>
    <${ErrorBox} error=${list.error} />
    ${rows && rows.length === 0 && html`<p class="hint">还没有导入记录。</p>`}
    ${rows && rows.length > 0 &&
    html`<div class="scroll"><table class="grid" data-testid="import-history">
      <thead><tr><th>时间</th><th>文件</th><th>导入人</th><th>数据行</th><th>新增</th><th>更新</th><th>无变化</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr><td>${dateTime(r.createdAt)}</td><td>${r.fileName}</td><td>${r.importedBy}</td>
        <td>${r.rowsRead}</td><td>${r.created}</td><td>${r.updated}</td><td>${r.unchanged}</td></tr>`)}</tbody>
    </table></div>`}
    <${MoreButton} list=${list} testid="more-imports" />
  </section>`;
}

export function RosterScreen() {
  const [version, setVersion] = useState(0);
  return html`<h2 class="screen">花名册</h2>
    <section class="card">
      <h2>下载</h2>
      <div class="actions left">
        <${DownloadButton} path="/exports/roster.xlsx" testid="download-roster">下载花名册（Excel）<//>
        <${DownloadButton} path="/exports/roster-template.xlsx" testid="download-template">下载空白模板<//>
      </div>
      <p class="hint">下载的花名册可直接修改后重新导入；街道工作人员只能导入本街道的人员。</p>
    </section>
    <${ImportFlow} title="导入花名册" mutation=${IMPORT} field="importRoster" after=${() => setVersion((v) => v + 1)}
      hint="每一行都会先检查；只要有一个问题，整个文件都不会写入。" />
    <${History} version=${version} />`;
}
