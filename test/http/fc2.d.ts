/** The part of Function Compute's Node SDK (`@alicloud/fc2`, untyped) that the FC client test uses. */
declare module '@alicloud/fc2' {
  interface ClientConfig {
    accessKeyID: string;
    accessKeySecret: string;
    region: string;
    /** Overrides `http(s)://<account>.<region>.fc.aliyuncs.com`. */
    endpoint?: string;
    timeout?: number;
  }
  interface FcResponse {
    headers: Record<string, string | string[] | undefined>;
    data: unknown;
  }
  class FCClient {
    constructor(accountId: string, config: ClientConfig);
    /** POST /2016-08-15/services/<service>/functions/<function>/invocations */
    invokeFunction(serviceName: string, functionName: string, event: string | Buffer, headers?: Record<string, string>): Promise<FcResponse>;
  }
  export = FCClient;
}
