export declare const oqsAliases: Record<string, string>;
