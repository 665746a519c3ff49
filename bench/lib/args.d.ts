/** Types of args.js, for the tests that import it. */
export declare const WORKLOADS: readonly string[];
export declare const STORES: readonly string[];
export interface BenchOptions {
  readonly help: boolean;
  readonly quick: boolean;
  readonly only: readonly string[];
  readonly stores: readonly string[];
  readonly peers: boolean;
  readonly n: number | undefined;
  readonly out: string | undefined;
}
export declare function parseArgs(argv: readonly string[]): BenchOptions;
export declare const USAGE: string;
