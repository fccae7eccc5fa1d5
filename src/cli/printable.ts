// Text from a user's file (a name, a path, a label) reaches the terminal escaped: a raw ESC, CR or LF in
// a scenario must not repaint the user's screen or forge a PASS line. Each call prints one line.
export function printable(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
