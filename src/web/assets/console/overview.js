// 概览: the district's dashboard (the bureau, leaders) or a street's (staff, planners) over a
// period, as charts (Apache ECharts, vendored and embedded) and tables.
import { html, useState, useEffect, useRef } from '../vendor/htm-preact.module.js';
import { gql } from './api.js';
import { ErrorBox, DUTY_KIND, today, pct, num } from './ui.js';

const FIGURES = `from to street { id name } teamCount plannerCount communityCoverage { communityCount covered rate }
  streetFigures { street { id name } teamCount plannerCount communityCoverage { communityCount covered rate } dutyRecordCount letterCount openProblemCount }
  contractsEndingSoon { id endDate appointment { street { name } lead { name } } }
  dutyRecordCounts { kind year quarter label count }
  planExecution { done due cancelled rate }
  openProblems { totalCount byCategory { category count } }
  letterFigures { received replied unreplied medianReplyHours p90ReplyHours }
  meetingCompliance { quarters { label meetings compliant } missing }
  assessmentFigures { excellent qualified unqualified open }`;
const DISTRICT = `query District($from: Date!, $to: Date!) { districtOverview(from: $from, to: $to) { ${FIGURES} } }`;
const STREET = `query Street($s: ID!, $from: Date!, $to: Date!) { streetOverview(streetId: $s, from: $from, to: $to) { ${FIGURES} } }`;
const MY_STREETS = `query MyStreets { streets(first: 50) { nodes { id name viewerCanReadRecords } } }`;

let loading = null;
function loadECharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = new URL('../vendor/echarts.min.js', import.meta.url).href;
      s.onload = () => resolve(window.echarts);
      s.onerror = () => reject(new Error('无法加载图表组件'));
      document.head.appendChild(s);
    });
  }
  return loading;
}

function Chart({ option, testid }) {
  const ref = useRef(null);
  useEffect(() => {
    let chart = null;
    let gone = false;
    const resize = () => chart && chart.resize();
    loadECharts().then((echarts) => {
      if (gone || !ref.current) return;
      chart = echarts.init(ref.current, null, { renderer: 'canvas' });
      chart.setOption({ animation: false, textStyle: { fontFamily: 'sans-serif' }, ...option });
      window.addEventListener('resize', resize);
    });
    return () => {
      gone = true;
      window.removeEventListener('resize', resize);
      if (chart) chart.dispose();
    };
  }, [JSON.stringify(option)]);
  return html`<div class="chart" ref=${ref} data-testid=${testid}></div>`;
}

function Dashboard({ o }) {
  const kinds = [...new Set(o.dutyRecordCounts.map((c) => c.kind))];
  // Quarters in calendar order (the counts come grouped by kind).
  const quarters = [...new Map(
    [...o.dutyRecordCounts].sort((a, b) => a.year - b.year || a.quarter - b.quarter).map((c) => [c.label, c])
  ).keys()];
  const duty = {
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 48 },
    xAxis: { type: 'category', data: quarters },
    yAxis: { type: 'value', minInterval: 1 },
    series: kinds.map((k) => ({
      name: DUTY_KIND[k] || k, type: 'bar', stack: 'all',
      data: quarters.map((q) => (o.dutyRecordCounts.find((c) => c.kind === k && c.label === q) || { count: 0 }).count),
    })),
  };
  const f = o.assessmentFigures;
  const grades = {
    tooltip: { trigger: 'item' },
    legend: { bottom: 0 },
    series: [{ type: 'pie', radius: ['30%', '55%'], label: { formatter: '{b}：{c}', overflow: 'none' }, labelLine: { length: 8, length2: 6 },
      data: [{ name: '优秀', value: f.excellent }, { name: '合格', value: f.qualified }, { name: '不合格', value: f.unqualified }, { name: '进行中', value: f.open }] }],
  };
  const streets = {
    tooltip: { trigger: 'axis' },
    legend: { bottom: 0 },
    grid: { left: 40, right: 16, top: 16, bottom: 60 },
    xAxis: { type: 'category', data: o.streetFigures.map((s) => s.street.name), axisLabel: { interval: 0, rotate: o.streetFigures.length > 6 ? 30 : 0 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '工作记录', type: 'bar', data: o.streetFigures.map((s) => s.dutyRecordCount) },
      { name: '来信', type: 'bar', data: o.streetFigures.map((s) => s.letterCount) },
      { name: '未解决问题', type: 'bar', data: o.streetFigures.map((s) => s.openProblemCount) },
    ],
  };
  const c = o.communityCoverage;
  const lf = o.letterFigures;
  return html`<div class="kpis" data-testid="kpis">
      <div><b>${o.teamCount}</b><span>在聘团队</span></div>
      <div><b>${o.plannerCount}</b><span>规划师</span></div>
      <div><b>${pct(c.rate)}</b><span>社区覆盖（${c.covered}/${c.communityCount}）</span></div>
      <div><b>${pct(o.planExecution.rate)}</b><span>计划执行（${o.planExecution.done}/${o.planExecution.due}）</span></div>
      <div><b>${o.openProblems.totalCount}</b><span>未解决体检问题</span></div>
      <div><b>${lf.received}</b><span>来信（未答复 ${lf.unreplied}）</span></div>
    </div>
    <div class="charts">
      <section class="card"><h2>工作记录（按季度、类别）</h2>${o.dutyRecordCounts.length ? html`<${Chart} option=${duty} testid="chart-duty" />` : html`<p class="hint">该期间没有工作记录。</p>`}</section>
      <section class="card"><h2>聘期考核</h2>${f.excellent + f.qualified + f.unqualified + f.open > 0
        ? html`<${Chart} option=${grades} testid="chart-grades" />`
        : html`<p class="hint" data-testid="no-assessments">该期间没有定稿或进行中的考核。</p>`}</section>
      ${o.streetFigures.length > 1 && html`<section class="card wide-card"><h2>各街道</h2><${Chart} option=${streets} testid="chart-streets" /></section>`}
    </div>
    <section class="card">
      <h2>各街道数据</h2>
      <div class="scroll"><table class="grid" data-testid="street-figures">
        <thead><tr><th>街道</th><th>团队</th><th>规划师</th><th>社区覆盖</th><th>工作记录</th><th>来信</th><th>未解决问题</th></tr></thead>
        <tbody>${o.streetFigures.map((s) => html`<tr><td>${s.street.name}</td><td>${s.teamCount}</td><td>${s.plannerCount}</td>
          <td>${s.communityCoverage.covered}/${s.communityCoverage.communityCount}（${pct(s.communityCoverage.rate)}）</td>
          <td>${s.dutyRecordCount}</td><td>${s.letterCount}</td><td>${s.openProblemCount}</td></tr>`)}</tbody>
      </table></div>
    </section>
    <div class="charts">
      <section class="card"><h2>信箱答复时间</h2>
        <table class="grid"><tbody>
          <tr><th>收到来信</th><td>${lf.received}</td></tr><tr><th>已答复</th><td>${lf.replied}</td></tr>
          <tr><th>答复用时中位数</th><td>${lf.medianReplyHours === null ? '—' : `${num(lf.medianReplyHours)} 小时`}</td></tr>
          <tr><th>九成答复用时不超过</th><td>${lf.p90ReplyHours === null ? '—' : `${num(lf.p90ReplyHours)} 小时`}</td></tr>
        </tbody></table></section>
      <section class="card"><h2>工作例会（每季度一次）</h2>
        ${o.meetingCompliance.missing.length > 0 && html`<p class="invalid">缺少例会的季度：${o.meetingCompliance.missing.join('、')}</p>`}
        <table class="grid"><thead><tr><th>季度</th><th>例会次数</th></tr></thead>
          <tbody>${o.meetingCompliance.quarters.map((q) => html`<tr class=${q.compliant ? '' : 'bad'}><td>${q.label}</td><td>${q.meetings}</td></tr>`)}</tbody></table></section>
      <section class="card"><h2>即将到期的服务合同</h2>
        ${o.contractsEndingSoon.length === 0 ? html`<p class="hint">90 天内没有到期的合同。</p>` : html`<table class="grid"><tbody>
          ${o.contractsEndingSoon.map((k) => html`<tr><td>${k.appointment.street.name}</td><td>${k.appointment.lead ? k.appointment.lead.name : '—'}</td><td>${k.endDate}</td></tr>`)}</tbody></table>`}</section>
    </div>`;
}

export function OverviewScreen({ user }) {
  const district = user.role === 'DISTRICT_ADMIN' || user.role === 'VIEWER';
  const [from, setFrom] = useState(`${today().slice(0, 4)}-01-01`);
  const [to, setTo] = useState(today());
  const [streets, setStreets] = useState(null);
  const [street, setStreet] = useState(user.street ? user.street.id : '');
  const [o, setO] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    if (district || user.street) return;
    gql(MY_STREETS).then((d) => {
      const mine = d.streets.nodes.filter((s) => s.viewerCanReadRecords);
      setStreets(mine);
      if (mine.length && !street) setStreet(mine[0].id);
    }).catch(setError);
  }, []);
  // Figures are shown only for the dates in the fields: an empty or reversed period clears
  // them, and an answer to an earlier period that arrives late is dropped.
  const asked = useRef(0);
  useEffect(() => {
    const mine = ++asked.current;
    setError(null);
    if (!from || !to) {
      setO(null);
      return;
    }
    if (to < from) {
      setO(null);
      setError(new Error('截止日期早于起始日期，请重新选择。'));
      return;
    }
    if (!district && !street) return;
    const q = district ? gql(DISTRICT, { from, to }).then((d) => d.districtOverview) : gql(STREET, { s: street, from, to }).then((d) => d.streetOverview);
    q.then((v) => mine === asked.current && setO(v)).catch((e) => {
      if (mine !== asked.current) return;
      setO(null);
      setError(e);
    });
  }, [from, to, street]);
  return html`<h2 class="screen">概览${o && o.street ? ` · ${o.street.name}` : district ? ' · 全区' : ''}</h2>
    <section class="card">
      <div class="row">
        <span><label for="ov-from">起始日期</label><input id="ov-from" type="date" value=${from} onInput=${(e) => setFrom(e.target.value)} /></span>
        <span><label for="ov-to">截止日期</label><input id="ov-to" type="date" value=${to} onInput=${(e) => setTo(e.target.value)} /></span>
        ${streets && streets.length > 1 && html`<span><label for="ov-street">街道</label>
          <select id="ov-street" value=${street} onChange=${(e) => setStreet(e.target.value)}>${streets.map((s) => html`<option value=${s.id}>${s.name}</option>`)}</select></span>`}
      </div>
      <${ErrorBox} error=${error} />
      ${(!from || !to) && html`<p class="hint" data-testid="overview-need-dates">请选择起始日期和截止日期。</p>`}
      ${!district && streets && streets.length === 0 && html`<p class="hint">您目前没有在聘的街道团队，暂无概览。</p>`}
    </section>
    ${o && html`<${Dashboard} o=${o} />`}`;
}
