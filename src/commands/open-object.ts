// Opens one stream's CRM object and adds the problems that come from combining the plan with the
// run's settings rather than from the CRM: check and write report the same list.
import type { Config } from '../config/spec.js';
import type { StreamPlan } from '../config/stream-plan.js';
import type { Destination, OpenedObject, Problem } from '../crm/destination.js';
import { canCompareWithCrm } from '../engine/crm-change-filter.js';

export async function openObject(destination: Destination, plan: StreamPlan, config: Config): Promise<OpenedObject> {
  const opened = await destination.open(plan);
  return { ...opened, problems: [...opened.problems, ...changeDetectionProblems(config, plan, opened)] };
}

function changeDetectionProblems(config: Config, plan: StreamPlan, opened: OpenedObject): Problem[] {
  if (config.change_detection !== 'crm') return [];
  const problems: Problem[] = [];
  if (opened.writer && !canCompareWithCrm(opened.writer)) {
    problems.push({ message: `change_detection "crm" is not available for ${config.crm.type} objects; use "store" or "off"` });
  }
  if (!plan.match.destination) {
    problems.push({ field: 'match.destination', message: 'change_detection "crm" reads each row\'s record back by match.destination; set it' });
  }
  if (plan.onRemoval !== 'ignore') {
    problems.push({ message: `on_removal "${plan.onRemoval}" needs the state store to know which rows left the segment; change_detection "crm" keeps none` });
  }
  return problems;
}
