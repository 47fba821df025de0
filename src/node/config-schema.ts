/**
 * The JSON Schema of Tracer's configuration file, with every default: options and defaults are
 * those of REQUIREMENTS.md Appendix A (sections 2, 3, 5, 6, 7.3, 8, 16), except where the project sets
 * its own (port 11112, AE title TRACER, data in ./tracer-data). Validation and defaults both come
 * from here, so the file, `tracer config --defaults` and the code cannot drift apart.
 */

const aeTitle = {
  type: 'string', minLength: 1, maxLength: 16,
  // SYS-003: default repertoire, no backslash, no control characters; not all spaces.
  pattern: '^(?=.*[^ ])[ -\\[\\]-~]+$',
  description: 'AE title: 1-16 characters of the default repertoire, no backslash',
} as const;
const seconds = { type: 'number', minimum: 0 } as const;
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const;
const transferSyntaxList = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const;
const retry = (count: number, intervalSeconds: number) => ({
  type: 'object', additionalProperties: false, default: {},
  properties: {
    count: { type: 'integer', minimum: 0, default: count },
    intervalSeconds: { ...seconds, default: intervalSeconds },
  },
}) as const;

const tlsEndpoint = {
  type: 'object', additionalProperties: false, default: {},
  properties: {
    enabled: { type: 'boolean', default: false, description: 'SEC-001: PS3.15 B.1 TLS; a local AE then accepts TLS only' },
    certificate: { type: 'string', description: 'PEM certificate file (ours); on a node, overrides the local AE one for outbound' },
    privateKey: { type: 'string', description: 'PEM private key file (unencrypted) of that certificate' },
    ca: { type: 'array', items: { type: 'string' }, default: [], description: 'PEM files of trusted CA certificates; empty with pins = trust by pin only' },
    requirePeerCertificate: { type: 'boolean', default: true, description: 'mutual TLS (SEC-002), local AEs' },
    pinnedThumbprints: { type: 'array', items: { type: 'string', pattern: '^([Ss][Hh][Aa]-?(1|256):)?[0-9A-Fa-f: ]+$' }, default: [], description: "SEC-003: 'sha1:..' / 'sha256:..' thumbprints of the peer certificate or one of its chain (colons and case free); required on nodes with TLS" },
    legacyTls10: { type: 'boolean', default: false, description: 'SEC-005: allow TLS 1.0 (OpenSSL security level 0) for this peer' },
  },
} as const;

const serviceAcl = (requireKnown: boolean, ipAllowList: 'off' | 'knownNodes') => ({
  type: 'object', additionalProperties: false, default: {},
  properties: {
    checkCalledAeTitle: { type: 'boolean', default: true },
    requireKnownCallingAe: { type: 'boolean', default: requireKnown },
    ipAllowList: {
      default: ipAllowList,
      oneOf: [
        { type: 'string', enum: ['off', 'knownNodes'] },
        { type: 'array', items: { type: 'string', minLength: 1 }, description: 'addresses or CIDR ranges' },
      ],
    },
  },
}) as const;

export const configSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Tracer configuration',
  type: 'object',
  additionalProperties: false,
  properties: {
    localAEs: {
      type: 'array', minItems: 1,
      default: [{}],
      items: {
        type: 'object', additionalProperties: false,
        properties: {
          aeTitle: { ...aeTitle, default: 'TRACER' },
          port: { ...port, default: 11112 },
          host: { type: 'string', default: '0.0.0.0', description: 'address to listen on' },
          services: { type: 'array', items: { type: 'string', enum: ['verification', 'storage', 'queryRetrieve'] }, default: ['verification', 'storage', 'queryRetrieve'], uniqueItems: true },
          implementationClassUid: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)*$', maxLength: 64 },
          implementationVersionName: { type: 'string', maxLength: 16, pattern: '^[ -\\[\\]-~]*$' },
          tls: tlsEndpoint,
        },
      },
    },
    store: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        root: { type: 'string', default: './tracer-data' },
        indexBatchSize: { type: 'integer', minimum: 1, default: 20, description: 'SYS-022: index rows per transaction at most. With storage.ackMode afterIndex, the rows of instances received together (several associations) share a transaction; with afterFileWrite, rows wait until this many are queued or store.indexFlushSeconds have passed' },
        indexFlushSeconds: { ...seconds, default: 5, description: 'SYS-022: the longest an index row waits in a batch (storage.ackMode afterFileWrite)' },
        fsync: { type: 'boolean', default: true, description: 'STOR-014: fsync each received file and its directory before answering success; false survives a killed process but not a power cut (as storescp, or Orthanc with SyncStorageArea false)' },
        indexSynchronous: { type: 'string', enum: ['normal', 'full'], default: 'normal', description: 'SQLite synchronous in WAL mode: normal survives a killed process; the start-up check re-indexes fsynced files after a power cut' },
      },
    },
    network: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        maxPduReceive: { type: 'integer', default: 32768, minimum: 0, maximum: 524288, description: '0 (unlimited) or 4096-524288 (ASSOC-010)' },
        maxPduSendUnlimited: { type: 'integer', minimum: 4096, default: 65536 },
        connectTimeout: { ...seconds, default: 60 },
        acseTimeout: { ...seconds, default: 60 },
        releaseTimeout: { ...seconds, default: 30 },
        dimseTimeout: { ...seconds, default: 60 },
        interPduTimeout: { ...seconds, default: 60 },
        idleAssociationTimeout: { ...seconds, default: 120 },
        sessionTimeout: { ...seconds, default: 0 },
        maxInboundAssociations: { type: 'integer', minimum: 0, default: 12 },
        maxOutboundAssociations: { type: 'integer', minimum: 0, default: 0 },
        asyncOps: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            enabled: { type: 'boolean', default: false },
            maxInvoked: { type: 'integer', minimum: 0, default: 0 },
            maxPerformed: { type: 'integer', minimum: 0, default: 16 },
          },
        },
        tsSelection: { type: 'string', enum: ['callerOrder', 'localOrder'], default: 'callerOrder' },
        acceptedTransferSyntaxes: { ...transferSyntaxList, description: 'ordered; default: every syntax of REQUIREMENTS 1.2 but the Philips private one' },
      },
    },
    storage: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        minFreeDiskMb: { type: 'number', minimum: 0, default: 2048 },
        privateStatusCodes: { type: 'string', enum: ['none', 'entegra'], default: 'none' },
        validationFailure: { type: 'string', enum: ['reject', 'warn'], default: 'reject' },
        ackMode: { type: 'string', enum: ['afterIndex', 'afterFileWrite'], default: 'afterIndex', description: 'STOR-014: afterIndex answers Success once the file and its index row are durable; afterFileWrite once the file is, the row following in a batch (store.indexBatchSize, store.indexFlushSeconds): not yet queryable, indexed by the start-up check should the node stop first' },
        validation: { type: 'string', enum: ['none', 'uids', 'uidsAndImage', 'type1'], default: 'uids', description: 'STOR-020' },
        storeInvalid: { type: 'boolean', default: false, description: 'STOR-022: keep instances refused with C000/A900 (cmr42)' },
        fixups: {
          type: 'object', additionalProperties: false, default: {},
          properties: {
            emptyPatientName: { type: ['boolean', 'string'], default: false, description: "STOR-030: true (= 'Unknown') or the value for an empty Patient's Name" },
            emptyPatientId: { type: ['boolean', 'string'], default: false, description: "STOR-030: true (= 'Unknown') or the value for an empty Patient ID" },
            rowsColumnsFromPixelData: { type: 'boolean', default: false },
            generateMissingSopInstanceUid: { type: 'boolean', default: false },
          },
        },
        duplicatePolicy: { type: 'string', enum: ['ignore', 'overwrite', 'reject'], default: 'ignore', description: 'STOR-040' },
        seriesUidConflict: { type: 'string', enum: ['quarantine', 'store'], default: 'quarantine', description: 'STOR-041' },
        sopUidConflict: { type: 'string', enum: ['store', 'quarantine'], default: 'store', description: 'STOR-041' },
        demographicUpdate: { type: 'string', enum: ['latestWins', 'keepExisting', 'flagOnly'], default: 'latestWins', description: 'STOR-050' },
        autoDelete: {
          type: 'object', additionalProperties: false, default: {},
          description: 'COMMIT-030, SYS-023: watermark deletion of whole studies, least recently received first',
          properties: {
            enabled: { type: 'boolean', default: false, description: 'delete studies when the file system of store.root reaches highWaterPercent, until it is below lowWaterPercent (checked at start-up and after ingests)' },
            highWaterPercent: { type: 'number', exclusiveMinimum: 0, maximum: 100, default: 90, description: 'used space (percent, as df) at which deletion starts' },
            lowWaterPercent: { type: 'number', minimum: 0, exclusiveMaximum: 100, default: 80, description: 'used space (percent) deletion brings the file system below; less than highWaterPercent' },
            onlyCommitted: { type: 'boolean', default: true, description: 'COMMIT-030: only studies whose every instance was committed by an archive (storage commitment) may be deleted' },
          },
        },
      },
    },
    db: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        patientMatchKeys: {
          type: 'array', minItems: 1, uniqueItems: true, default: ['PatientName', 'PatientID', 'PatientBirthDate', 'PatientSex'],
          items: { type: 'string', enum: ['PatientName', 'PatientID', 'IssuerOfPatientID', 'PatientBirthDate', 'PatientSex'] },
          description: 'STOR-051: attributes that together identify a patient',
        },
      },
    },
    findScp: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        relational: { type: 'string', enum: ['hierarchical', 'ifNegotiated', 'always'], default: 'ifNegotiated', description: 'QR-010' },
        maxMatches: { type: 'integer', minimum: 0, default: 500, description: 'QR-015: 0 = unlimited' },
        caseInsensitive: { type: 'string', enum: ['none', 'pnOnly', 'all'], default: 'pnOnly' },
        pnMatching: { type: 'string', enum: ['componentWise', 'wholeString'], default: 'componentWise' },
        implicitTrailingWildcard: { type: 'boolean', default: false },
        instanceAvailability: { type: 'string', enum: ['ONLINE', 'NEARLINE', 'OFFLINE', 'UNAVAILABLE'], default: 'ONLINE' },
      },
    },
    findScu: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        maxResults: { type: 'integer', minimum: 0, default: 100, description: 'QR-026: C-CANCEL above this many matches; 0 = unlimited' },
        appendWildcard: { type: 'string', enum: ['none', 'patientName', 'allStrings'], default: 'patientName', description: "QR-022: append '*' to entered values of Patient's Name only, of every text key (allStrings), or of none" },
        requireNonEmptyKey: { type: 'boolean', default: true, description: 'QR-023: refuse to send a query in which no key has a value' },
        duplicates: { type: 'string', enum: ['replace', 'keepAll'], default: 'replace', description: 'QR-028: a later response for the same entity replaces the earlier one, or both are kept' },
      },
    },
    moveScu: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        target: { type: 'string', enum: ['retrieveAeTitle', 'queriedNode'], default: 'retrieveAeTitle', description: 'QR-052: send the C-MOVE to the registered node named by the Retrieve AE Title (0008,0054) of the matches (else to the queried node), or always to the queried node' },
        retry: retry(3, 60),
      },
    },
    moveScp: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        destination: { type: 'string', enum: ['knownNodes', 'callerAddress'], default: 'knownNodes', description: 'QR-041' },
        noMatchStatus: { type: 'string', enum: ['success', 'A701'], default: 'success', description: 'QR-044' },
      },
    },
    storeScu: {
      type: 'object', additionalProperties: false, default: {},
      properties: { retry: retry(2, 30) },
    },
    jobs: {
      type: 'object', additionalProperties: false, default: {},
      properties: { perDestinationConcurrency: { type: 'integer', minimum: 1, default: 1 } },
    },
    tls: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        minVersion: { type: 'string', enum: ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'], default: 'TLSv1.2' },
        ciphers: { type: 'string' },
      },
    },
    acl: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        // SEC-010/011: queries and commitment restricted, storage open for C-MOVE sub-operations.
        verification: serviceAcl(false, 'off'),
        storage: serviceAcl(false, 'off'),
        queryRetrieve: serviceAcl(true, 'knownNodes'),
      },
    },
    nodes: {
      type: 'array', default: [],
      items: {
        type: 'object', additionalProperties: false,
        required: ['name', 'aeTitle', 'host', 'port'],
        properties: {
          name: { type: 'string', minLength: 1, pattern: '^[^\\s:]+$', description: 'logical name, usable in place of HOST PORT' },
          aeTitle,
          host: { type: 'string', minLength: 1 },
          port,
          description: { type: 'string' },
          services: { type: 'array', items: { type: 'string', enum: ['verification', 'storage'] }, uniqueItems: true, default: ['verification', 'storage'] },
          duplicatePolicy: { type: 'string', enum: ['ignore', 'overwrite', 'reject'], description: 'STOR-040: overrides storage.duplicatePolicy for instances this node sends' },
          relationalQuery: { type: 'boolean', default: false, description: 'QR-032: propose relational queries (PS3.4 C.5.1.1.1 extended negotiation) to this node' },
          forceFilter: { type: 'boolean', default: false, description: 'QR-023: queries to this node need a key with a value, even with findScu.requireNonEmptyKey false ("Large Archive")' },
          maxPduSend: { type: 'integer', minimum: 0, default: 0 },
          maxPresentationContexts: { type: 'integer', minimum: 1, maximum: 128, default: 128 },
          enabledTransferSyntaxes: transferSyntaxList,
          disableExplicitVr: { type: 'boolean', default: false },
          privateTransferSyntax: { type: 'boolean', default: false },
          maxInstancesPerAssociation: { type: 'integer', minimum: 0, default: 0 },
          pcStrategy: { type: 'string', enum: ['jobClasses', 'allConfigured'], default: 'jobClasses' },
          pcLayout: { type: 'string', enum: ['onePcPerTs', 'singlePcAllTs'], default: 'onePcPerTs' },
          storeTransferSyntaxes: transferSyntaxList,
          allowLossy: { type: 'boolean', default: false, description: 'allow lossy compression when a syntax of storeTransferSyntaxes needs it (SEND-021)' },
          onRefused: { type: 'string', enum: ['retryJob', 'continue', 'failJob'], default: 'retryJob' },
          onInstanceFailure: { type: 'string', enum: ['continue', 'abortAndRetry', 'stopJob'], default: 'continue' },
          warningsAsSuccess: { type: 'boolean', default: true },
          timeouts: {
            type: 'object', additionalProperties: false,
            description: 'ASSOC-020: network.* timeouts (seconds) for the associations Tracer opens to this node',
            properties: {
              connectTimeout: seconds, acseTimeout: seconds, releaseTimeout: seconds, dimseTimeout: seconds, interPduTimeout: seconds, sessionTimeout: seconds,
            },
          },
          tls: tlsEndpoint,
        },
      },
    },
    log: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        level: { type: 'string', enum: ['error', 'warn', 'info', 'debug', 'trace'], default: 'info' },
        format: { type: 'string', enum: ['text', 'json'], default: 'text' },
      },
    },
  },
} as const;
