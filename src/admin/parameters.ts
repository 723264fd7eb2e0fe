/**
 * Query and path parameters of the admin API, held to the protocol's own rules: a bad one is a
 * BadRequest naming it, which the router answers with 400.
 */
import { isValidPackageName } from '../protocol/parse.js';

export class BadRequest extends Error {
  readonly parameter: string;

  constructor(parameter: string, message: string) {
    super(message);
    this.parameter = parameter;
  }
}

const NAME_RULE = 'a package name is 1 to 255 characters from A-Z a-z 0-9 . _ + @ / : ~ -';
/** A prefix is any start of a valid name, including the empty one. */
const VALID_PREFIX = /^[A-Za-z0-9._+@/:~-]{0,255}$/;
/** Plain decimal digits: no sign, exponent, hex or spaces. */
const DIGITS = /^[0-9]{1,9}$/;

/** A percent-encoded package name from the path. */
export function nameFromPath(raw: string, parameter = 'name'): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw new BadRequest(parameter, 'the package name is not valid percent-encoding');
  }
  return validName(name, parameter);
}

export function validName(name: string, parameter: string): string {
  if (!isValidPackageName(name)) throw new BadRequest(parameter, NAME_RULE);
  return name;
}

/** A required name from the query string. */
export function nameParameter(params: URLSearchParams, parameter: string): string {
  const value = params.get(parameter);
  if (value === null) throw new BadRequest(parameter, `${parameter} is required: ${NAME_RULE}`);
  return validName(value, parameter);
}

export function prefixParameter(params: URLSearchParams): string {
  const prefix = params.get('prefix') ?? '';
  if (!VALID_PREFIX.test(prefix)) throw new BadRequest('prefix', 'a prefix is up to 255 characters from A-Z a-z 0-9 . _ + @ / : ~ -');
  return prefix;
}

/** A whole number from `min` to `max` in plain digits, or `fallback` when absent. */
export function wholeNumber(params: URLSearchParams, parameter: string, fallback: number, min: number, max: number): number {
  const raw = params.get(parameter);
  if (raw === null) return fallback;
  const value = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) throw new BadRequest(parameter, `${parameter} is a whole number from ${min} to ${max}, in plain digits`);
  return value;
}

/** `depth=N` (1 or more) or `depth=all`, which is the default. */
export function depthParameter(params: URLSearchParams, maxDepth: number): number {
  const raw = params.get('depth');
  if (raw === null || raw === 'all') return Number.POSITIVE_INFINITY;
  const value = DIGITS.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 1 && value <= maxDepth)) throw new BadRequest('depth', `depth is "all" or a whole number from 1 to ${maxDepth}`);
  return value;
}
