// A run's output while it streams, kept so the page does little work per frame: the
// text is held in pieces that end at a line break (one per frame at most), the page
// shows each piece as its own block, and the oldest pieces are dropped from the top
// once more than `keep` characters are held. Adding a frame's output lays out only
// the new block; the blocks already on screen are left alone.

export interface Piece {
  id: number;
  text: string;
}

export interface Streamed {
  /** Complete lines, oldest first. */
  pieces: Piece[];
  /** The line being written (no line break yet). */
  partial: string;
  /** Characters held in `pieces`. */
  size: number;
  /** Whether older output was dropped from the top. */
  trimmed: boolean;
  /** The next piece's id (the page's key for its block). */
  next: number;
}

export function streamed(): Streamed {
  return { pieces: [], partial: "", size: 0, trimmed: false, next: 0 };
}

/** Adds `text` (any slice of the output: part of a line, or many lines). */
export function append(s: Streamed, text: string, keep: number) {
  const all = s.partial + text;
  const cut = all.lastIndexOf("\n") + 1;
  s.partial = all.slice(cut);
  if (s.partial.length > keep) {
    // A line that never ends (no line break for pages) keeps its newest part.
    s.partial = s.partial.slice(-keep);
    s.trimmed = true;
  }
  if (cut > 0) {
    const lines = all.slice(0, cut);
    s.pieces.push({ id: s.next++, text: lines });
    s.size += lines.length;
  }
  let drop = 0;
  while (s.size > keep && drop < s.pieces.length - 1) s.size -= s.pieces[drop++].text.length;
  if (drop > 0) {
    s.pieces.splice(0, drop);
    s.trimmed = true;
  }
}

/** Everything held, as one string. */
export function text(s: Streamed): string {
  return s.pieces.map((p) => p.text).join("") + s.partial;
}

/** Keeps a scrolling element at its end while new content arrives, unless the user
 *  scrolled up to read (it follows again once they scroll back to the end). */
export function followTail(node: HTMLElement) {
  let atEnd = true;
  const onScroll = () => (atEnd = node.scrollTop + node.clientHeight >= node.scrollHeight - 4);
  const observer = new MutationObserver(() => {
    if (atEnd) node.scrollTop = node.scrollHeight;
  });
  node.addEventListener("scroll", onScroll, { passive: true });
  observer.observe(node, { childList: true, subtree: true, characterData: true });
  return {
    destroy() {
      observer.disconnect();
      node.removeEventListener("scroll", onScroll);
    },
  };
}
