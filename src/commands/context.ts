// What the parser derives once from the config and hands to every part.
import type { Config } from '../config/schema.js';
import { createExamples, type Examples } from './messages.js';
import { normalize } from './normalize.js';
import { createPlaceMatcher, type PlaceMatcher } from './places.js';

export interface ParseContext {
  places: PlaceMatcher;
  examples: Examples;
  /** Every way a person can be named in a 转单 (name, id, WeCom and DingTalk ids), longest first. */
  personNames: string[];
}

export function createContext(config: Config): ParseContext {
  const names = config.people.flatMap((p) => [normalize(p.name), p.id, p.wecom, p.dingtalk]);
  return {
    places: createPlaceMatcher(config),
    examples: createExamples(config),
    personNames: [...new Set(names.filter((n): n is string => !!n))].sort((a, b) => b.length - a.length),
  };
}
