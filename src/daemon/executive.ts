/**
 * Placeholder seam for the executive's start-up; replaced by the real daemon wiring.
 * `corosync` without `-t` calls this after the configuration has been loaded and checked.
 */
export interface ExecutiveOptions {
  configFile: string;
  foreground: boolean;
}

export async function startExecutive(_opts: ExecutiveOptions): Promise<number> {
  process.stderr.write("corosync: the executive is not wired yet\n");
  return 1;
}
