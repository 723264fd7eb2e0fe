/**
 * Checks a value against the subset of JSON Schema that the admin API's OpenAPI description uses
 * (type, properties, required, items, const, oneOf, pattern, minimum, maximum), and returns every
 * mismatch with its path. Small enough to read, so a test can trust what it checks.
 */

type Schema = Readonly<Record<string, unknown>>;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

export function schemaErrors(schema: Schema, value: unknown, at = '$'): string[] {
  const errors: string[] = [];
  if ('const' in schema && schema['const'] !== value) errors.push(`${at}: expected ${JSON.stringify(schema['const'])}, got ${JSON.stringify(value)}`);
  if (Array.isArray(schema['oneOf'])) {
    const matching = (schema['oneOf'] as Schema[]).filter((option) => schemaErrors(option, value, at).length === 0);
    if (matching.length !== 1) errors.push(`${at}: matches ${matching.length} of the oneOf options`);
  }
  const type = schema['type'];
  if (typeof type === 'string') {
    const actual = typeOf(value);
    if (actual !== type && !(type === 'number' && actual === 'integer')) return [...errors, `${at}: expected ${type}, got ${actual}`];
  }
  if (typeof value === 'number') {
    if (typeof schema['minimum'] === 'number' && value < schema['minimum']) errors.push(`${at}: below ${schema['minimum']}`);
    if (typeof schema['maximum'] === 'number' && value > schema['maximum']) errors.push(`${at}: above ${schema['maximum']}`);
  }
  if (typeof value === 'string' && typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern']).test(value))
    errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema['pattern']}`);
  if (Array.isArray(value) && typeof schema['items'] === 'object')
    value.forEach((item, k) => errors.push(...schemaErrors(schema['items'] as Schema, item, `${at}[${k}]`)));
  if (typeOf(value) === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of (schema['required'] as string[] | undefined) ?? []) if (!(key in record)) errors.push(`${at}: ${key} is missing`);
    const properties = (schema['properties'] as Record<string, Schema> | undefined) ?? {};
    for (const [key, property] of Object.entries(properties)) if (key in record) errors.push(...schemaErrors(property, record[key], `${at}.${key}`));
    if (schema['properties'] !== undefined) for (const key of Object.keys(record)) if (!(key in properties)) errors.push(`${at}: ${key} is not described`);
  }
  return errors;
}
