/**
 * Polls `condition` every `intervalMs` until it holds or `timeoutMs` pass, and says whether it held:
 * for what a watcher, a thread or a timer makes true a little later (a file watch can lag by seconds
 * on a loaded machine; the assertions after it say what did not happen).
 */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, intervalMs = 50): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, intervalMs))) {
    if (await condition()) return true;
  }
  return condition();
}
