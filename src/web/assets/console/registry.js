// 街道与团队: the streets with their current teams, the leads' eligibility (六(1)1, with the
// unmet criteria), coverage gaps (三 基层全覆盖: communities without a community planner) and
// service contracts ending soon (一年一签).
import { html, useState, useEffect } from '../vendor/htm-preact.module.js';
import { gql } from './api.js';
import { ErrorBox, MoreButton, usePaged, TEAM_ROLE, SPECIALTY } from './ui.js';

// Four queries, each within the server's cost limit on its own; the planners and the
// contracts page by page.
const STREETS = `query RegistryStreets {
  streets(first: 20) { nodes { id code name viewerCanReadRecords
    currentAppointment { id termStart termEnd termWarning
      lead { id name organization { name } leadEligibility { eligible unmet { code message } } }
      members { id role planner { id name } communities { name } }
      specialtyCoverage { missing } } } }
}`;
const COVERAGE = `query Coverage { streetCoverage(first: 30) { nodes { street { id name } communityCount uncoveredCommunities { id name } } } }`;
const CONTRACTS = `query EndingSoon($first: Int, $after: String) { contractsEndingSoon(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } nodes { id contractNo startDate endDate appointment { street { name } lead { name } } } } }`;
const PLANNERS = `query Eligibility($first: Int, $after: String) { planners(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor }
  nodes { id name organization { name } title yearsExperience barred leadEligibility { eligible unmet { code message } } } } }`;

function Eligibility({ e }) {
  if (!e) return '—';
  return e.eligible
    ? html`<span class="valid">符合</span>`
    : html`<span class="invalid">不符合：${e.unmet.map((u) => u.message).join('；')}</span>`;
}

export function RegistryScreen() {
  const [d, setD] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    Promise.all([STREETS, COVERAGE].map((q) => gql(q)))
      .then((parts) => setD(Object.assign({}, ...parts)))
      .catch(setError);
  }, []);
  if (error) return html`<${ErrorBox} error=${error} />`;
  if (!d) return html`<p class="hint">加载中…</p>`;
  // A street's staff and planners see the streets they may read, not rows they cannot open.
  const readable = d.streets.nodes.filter((s) => s.viewerCanReadRecords);
  const streets = readable.length ? readable : d.streets.nodes;
  const gaps = d.streetCoverage.nodes.filter((c) => c.uncoveredCommunities.length > 0);
  return html`<h2 class="screen">街道与团队</h2>
    <section class="card">
      <h2>各街道现任团队</h2>
      <div class="scroll"><table class="grid" data-testid="teams">
        <thead><tr><th>街道</th><th>聘期</th><th>驻街规划师</th><th>任职条件（六(1)1）</th><th>团队成员</th><th>缺少专业</th></tr></thead>
        <tbody>${streets.map((s) => {
          const a = s.currentAppointment;
          if (!s.viewerCanReadRecords) return html`<tr><td>${s.name}</td><td colspan="5" class="hint">无权查看该街道的团队</td></tr>`;
          if (!a) return html`<tr><td>${s.name}</td><td colspan="5" class="invalid">暂无在聘团队</td></tr>`;
          return html`<tr data-street=${s.name}>
            <td>${s.name}</td>
            <td>${a.termStart} 至 ${a.termEnd}${a.termWarning && html`<br/><small class="invalid">${a.termWarning}</small>`}</td>
            <td>${a.lead ? a.lead.name : '—'}${a.lead && a.lead.organization && html`<br/><small>${a.lead.organization.name}</small>`}</td>
            <td>${a.lead ? html`<${Eligibility} e=${a.lead.leadEligibility} />` : '—'}</td>
            <td>${a.members.map((m) => html`<div>${m.planner.name}（${TEAM_ROLE[m.role]}${m.communities.length ? '：' + m.communities.map((c) => c.name).join('、') : ''}）</div>`)}</td>
            <td>${a.specialtyCoverage.missing.map((x) => SPECIALTY[x] || x).join('、') || '—'}</td>
          </tr>`;
        })}</tbody>
      </table></div>
    </section>
    <section class="card">
      <h2>社区覆盖缺口（无社区规划师的社区）</h2>
      ${gaps.length === 0 ? html`<p class="valid">所有社区均有社区规划师对接。</p>`
        : html`<div class="scroll"><table class="grid" data-testid="coverage-gaps">
          <thead><tr><th>街道</th><th>社区数</th><th>未覆盖社区</th></tr></thead>
          <tbody>${gaps.map((c) => html`<tr><td>${c.street.name}</td><td>${c.communityCount}</td>
            <td>${c.uncoveredCommunities.map((x) => x.name).join('、')}</td></tr>`)}</tbody></table></div>`}
    </section>
    <${Contracts} />
    <${Planners} />`;
}

function Contracts() {
  const list = usePaged(CONTRACTS, {}, (d) => d.contractsEndingSoon, []);
  return html`<section class="card">
      <h2>即将到期的服务合同（90 天内${list.nodes ? `，共 ${list.total} 份` : ''}）</h2>
      <${ErrorBox} error=${list.error} />
      ${list.nodes && list.nodes.length === 0 && html`<p class="hint">90 天内没有到期的服务合同。</p>`}
      ${list.nodes && list.nodes.length > 0 && html`<div class="scroll"><table class="grid" data-testid="contracts-ending">
          <thead><tr><th>街道</th><th>驻街规划师</th><th>合同编号</th><th>起止日期</th></tr></thead>
          <tbody>${list.nodes.map((c) => html`<tr><td>${c.appointment.street.name}</td>
            <td>${c.appointment.lead ? c.appointment.lead.name : '—'}</td><td>${c.contractNo || '—'}</td>
            <td>${c.startDate} 至 ${c.endDate}</td></tr>`)}</tbody></table></div>`}
      <${MoreButton} list=${list} testid="more-contracts" />
    </section>`;
}

function Planners() {
  const list = usePaged(PLANNERS, {}, (d) => d.planners, [], 50);
  return html`<section class="card">
      <h2>规划师担任驻街规划师的条件${list.nodes ? `（共 ${list.total} 人）` : ''}</h2>
      <${ErrorBox} error=${list.error} />
      ${list.nodes && html`<div class="scroll"><table class="grid" data-testid="eligibility">
        <thead><tr><th>姓名</th><th>所在单位</th><th>职称</th><th>工作年限</th><th>任职条件</th></tr></thead>
        <tbody>${list.nodes.map((p) => html`<tr><td>${p.name}${p.barred && html` <span class="invalid">（已禁入）</span>`}</td>
          <td>${p.organization ? p.organization.name : '—'}</td><td>${p.title || '—'}</td><td>${p.yearsExperience} 年</td>
          <td>${p.barred ? html`<span class="invalid">已被禁止聘任（五(5) 考核不合格）</span>` : html`<${Eligibility} e=${p.leadEligibility} />`}</td></tr>`)}</tbody>
      </table></div>`}
      <${MoreButton} list=${list} testid="more-planners" />
    </section>`;
}
