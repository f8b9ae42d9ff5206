// district.weekly: the bureau's 区域汇总 (src/domain/district/), Monday 08:00, to district.yaml's people with the role
// `district`. A deployment-wide job, not a site's: it is scheduled once, on the site that delivers it (app.ts picks
// it: the first of the district's sites with a WeCom app or a DingTalk robot, which can send to a person), so it fires
// once per week however many instances run, like every scheduled job.
import type { Tenants } from '../src/config/tenants.js';
import { sendDistrictSummary } from '../src/domain/district/service.js';
import type { JobDefinition } from '../src/scheduler/job.js';

export function districtJob(tenants: Tenants, schedule = '0 8 * * 1'): JobDefinition {
  return {
    name: 'district.weekly',
    title: '区域汇总（周）',
    schedule,
    // The bureau wants its week every week, holidays or not.
    everyDay: true,
    catchUpMs: 6 * 3_600_000,
    // The week before the firing: a Monday-morning run reports Monday to Sunday just gone.
    run: (ctx) => sendDistrictSummary({ redis: ctx.redis, tenants, log: ctx.log }, { now: ctx.at }),
  };
}
