/** Numbers to 4 decimals; text quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(value: string | number | boolean): string {
  if (typeof value === 'number') return String(+value.toFixed(4));
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
