/**
 * A sentence from the engine. The engine writes a command to type between
 * backticks (the terminal's convention, kept for the CLI); the window shows
 * it as code, never the backticks themselves.
 */
export function Message({ text }: { text: string }) {
  const parts = text.split("`");
  // An odd count of backticks is not markup: show the text as it is, without them.
  if (parts.length % 2 === 0) return <>{text.replaceAll("`", "")}</>;
  return (
    <>
      {parts.map((p, i) => (i % 2 === 1 ? <code key={i}>{p}</code> : p))}
    </>
  );
}
