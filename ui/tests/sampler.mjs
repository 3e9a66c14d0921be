// Functions that run inside the dashboard page while a task streams (Chromium through
// playwright's evaluate, the app's WebKitGTK through WebDriver's execute): the agents
// stamp each line with the time they wrote it, and on every animation frame the age
// of each column's newest line is taken, with whether the column shows the last line.

/** Starts sampling on every animation frame until three columns show `lastLine`. */
export function startSampling(lastLine) {
  const w = window;
  w.__ages = [];
  w.__finished = 0;
  const tick = () => {
    let finished = 0;
    for (const column of document.querySelectorAll("section.card")) {
      const text = column.querySelector("pre.output")?.textContent ?? "";
      const m = /line (\d+) at (\d+)\s*$/.exec(text);
      if (m) w.__ages.push(Date.now() - Number(m[2]));
      if (text.includes(lastLine)) finished++;
    }
    w.__finished = finished;
    if (finished < 3) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

/** The ages sampled since the last call, the columns finished and the JS heap (Chromium). */
export function takeSamples() {
  const w = window;
  const ages = w.__ages;
  w.__ages = [];
  w.gc?.();
  return { ages, finished: w.__finished, heap: performance.memory?.usedJSHeapSize ?? null };
}

/** `xs`'s `q` quantile (nearest rank). */
export const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.round(q * (xs.length - 1)))];
