/** Whether dist/ under `root` is missing or older than any of the build's inputs. */
export function isStale(root: string): boolean;
