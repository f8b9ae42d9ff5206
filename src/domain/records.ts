// What the ledger keeps besides tasks: checklist sheets and meal feedback, stored per school day so the digest
// and the monthly export read a day at a time. Keys (under the configured prefix):
//   <prefix>:cl:day:<YYYY-MM-DD>    hash  sheet id → JSON ChecklistSheet
//   <prefix>:meal:day:<YYYY-MM-DD>  list  JSON MealFeedback, in arrival order
export interface ChecklistEntry {
  key: string;
  label: string;
  type: 'yesno' | 'number' | 'text';
  unit?: string;
  value?: string | number | boolean; // yesno: true = 正常; number: the reading; text: the words
  ok?: boolean; // false: failed or out of range
  note?: string;
  by?: string; // person id
  at?: number;
  task?: number; // the task a failure opened
}

export interface ChecklistSheet {
  id: string; // "<template>" or "<template>.<area index>"
  template: string;
  title: string;
  area?: string;
  responsible: string; // person id
  chat: string; // chat id it was posted to
  place?: string;
  date: string; // YYYY-MM-DD
  postedAt: number;
  status: 'open' | 'done' | 'missed';
  doneAt?: number;
  reminded?: boolean;
  items: ChecklistEntry[];
}

export interface MealFeedback {
  at: number;
  person: string;
  meal?: string; // 午餐 … when it answers a meal round
  rating?: number;
  text?: string;
  urgent: boolean;
  task?: number;
  answer?: { by: string; at: number; text: string }; // the canteen's answer to a complaint
}

export const recordKeys = (prefix: string) => ({
  checklistDay: (date: string) => `${prefix}:cl:day:${date}`,
  mealDay: (date: string) => `${prefix}:meal:day:${date}`,
});
