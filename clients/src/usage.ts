// Compiled by `tsc --noEmit`: the generated types are usable as a dashboard would use them,
// with strict scalars (Date is a string) and nullability that matches the server.
import type { DistrictDashboardQuery, StreetDashboardQuery } from '../generated/operations';
import type { ErrorCode, ErrorExtensions } from '../generated/schema';

export function contractsToRenew(q: DistrictDashboardQuery): string[] {
  return q.districtOverview.contractsEndingSoon.map((c) => {
    const end: string = c.endDate;
    const lead = c.appointment.lead;
    // A hidden phone is null, not an error; the flag says which.
    const phone = lead && lead.viewerCanSeeContact ? (lead.phone ?? '') : '';
    return `${c.appointment.street.name} ${end} ${phone}`;
  });
}

export function teams(q: StreetDashboardQuery): number {
  return q.appointments.edges.length + q.streetOverview.teamCount;
}

export function isRetryable(e: Pick<ErrorExtensions, 'code' | 'retryAfter'>): boolean {
  const code: ErrorCode = e.code;
  return code === 'RATE_LIMITED' && (e.retryAfter ?? 0) > 0;
}
