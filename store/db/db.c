/*
 * db.c - SQLite: open, schema, migrations, transactions.
 */
#include "db.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509.h>

/* A pending request's columns as schema 2 made them, all but id, whose form
 * 5 → 6 changes; that rebuild keeps them and adds renews.  Part of the
 * history below: never edited, a change is a new migration. */
#define REQUEST_COLUMNS_V2                                                                         \
	" created INTEGER NOT NULL,"                                                               \
	" subject TEXT NOT NULL,"                                                                  \
	" csr_der BLOB NOT NULL,"                                                                  \
	" key_uri TEXT,"                                                                           \
	" key_id TEXT NOT NULL,"                                                                   \
	" key_spec TEXT NOT NULL,"                                                                 \
	" friendly_name TEXT,"                                                                     \
	" exportable INTEGER NOT NULL DEFAULT 0,"                                                  \
	" ca_profile TEXT,"                                                                        \
	" ca_request_id TEXT,"                                                                     \
	" usages TEXT"

/* Each entry takes the schema from version i to i+1; append, never edit. */
static const char *const migrations[] = {
	/* 0 → 1: certificates and the audit log */
	"CREATE TABLE certs ("
	" id INTEGER PRIMARY KEY,"
	" store TEXT NOT NULL,"
	" der BLOB NOT NULL,"
	" sha1 TEXT NOT NULL,"
	" sha256 TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" subject_der BLOB NOT NULL,"
	" issuer TEXT NOT NULL,"
	" issuer_der BLOB NOT NULL,"
	" serial TEXT NOT NULL,"
	" not_before INTEGER NOT NULL,"
	" not_after INTEGER NOT NULL,"
	" friendly_name TEXT,"
	" key_uri TEXT,"
	" exportable INTEGER NOT NULL DEFAULT 0,"
	" archived INTEGER NOT NULL DEFAULT 0,"
	" added INTEGER NOT NULL,"
	" UNIQUE (store, sha1));"
	"CREATE INDEX certs_by_subject ON certs (subject_der);"
	"CREATE INDEX certs_by_issuer ON certs (issuer_der, serial);"
	"CREATE INDEX certs_by_sha1 ON certs (sha1);"
	"CREATE INDEX certs_by_sha256 ON certs (sha256);"
	"CREATE INDEX certs_by_friendly_name ON certs (friendly_name);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" action TEXT NOT NULL,"
	" detail TEXT NOT NULL);",
	/* 1 → 2: pending requests (the Request store) and CAs kept in the store */
	"CREATE TABLE requests ("
	" id INTEGER PRIMARY KEY," REQUEST_COLUMNS_V2 ");"
	"CREATE INDEX requests_by_key_id ON requests (key_id);"
	"CREATE TABLE local_cas ("
	" name TEXT PRIMARY KEY,"
	" der BLOB NOT NULL,"
	" sha1 TEXT NOT NULL,"
	" key_uri TEXT NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE issued ("
	" id INTEGER PRIMARY KEY,"
	" ca TEXT NOT NULL REFERENCES local_cas (name),"
	" serial TEXT NOT NULL,"
	" sha1 TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" time INTEGER NOT NULL,"
	" UNIQUE (ca, serial));",
	/* 2 → 3: usages, with the previous and a staged certificate each */
	"CREATE TABLE usages ("
	" name TEXT PRIMARY KEY,"
	" sha1 TEXT NOT NULL DEFAULT '',"
	" previous_sha1 TEXT NOT NULL DEFAULT '',"
	" staged_sha1 TEXT NOT NULL DEFAULT '',"
	" staged_at INTEGER NOT NULL DEFAULT 0,"
	" assigned_at INTEGER NOT NULL DEFAULT 0);",
	/* 3 → 4: which CA profile issued a certificate, and which one a request renews */
	"ALTER TABLE certs ADD COLUMN ca_profile TEXT;"
	"ALTER TABLE requests ADD COLUMN renews TEXT;",
	/* 4 → 5: the key ID (CKA_ID of the certificate and its key), indexed
	 * for the PKCS#11 module; cs_key_id() is registered by cs_db_open. */
	"ALTER TABLE certs ADD COLUMN key_id BLOB;"
	"UPDATE certs SET key_id = cs_key_id(der);"
	"CREATE INDEX certs_by_key_id ON certs (key_id);",
	/* 5 → 6: a request ID names one request for the life of the store.  A
	 * plain INTEGER PRIMARY KEY hands a deleted row's ID to the next request,
	 * so the audit log named different requests "pending 1"; AUTOINCREMENT
	 * never reuses one.  The sequence starts past every ID already used,
	 * including those only the audit log still names ("pending N ..."). */
	"CREATE TABLE requests_new ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT," REQUEST_COLUMNS_V2 ","
	" renews TEXT);"
	"INSERT INTO requests_new (id, created, subject, csr_der, key_uri, key_id, key_spec,"
	" friendly_name, exportable, ca_profile, ca_request_id, usages, renews)"
	" SELECT id, created, subject, csr_der, key_uri, key_id, key_spec, friendly_name,"
	" exportable, ca_profile, ca_request_id, usages, renews FROM requests;"
	"DROP TABLE requests;"
	"ALTER TABLE requests_new RENAME TO requests;"
	"CREATE INDEX requests_by_key_id ON requests (key_id);"
	"DELETE FROM sqlite_sequence WHERE name IN ('requests', 'requests_new');"
	"INSERT INTO sqlite_sequence (name, seq) SELECT 'requests', max(m) FROM ("
	" SELECT coalesce(max(id), 0) AS m FROM requests UNION ALL"
	" SELECT coalesce(max(CAST(substr(detail, 9) AS INTEGER)), 0) FROM audit"
	"  WHERE action IN ('request', 'request-remove') AND detail LIKE 'pending %');",
	/* 6 → 7: which process loaded or used which certificate's key (served.h);
	 * a process is its pid and start time, so a reused pid is another row. */
	"CREATE TABLE IF NOT EXISTS served ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" pid INTEGER NOT NULL,"
	" start INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" comm TEXT NOT NULL,"
	" exe TEXT NOT NULL,"
	" sha1 TEXT NOT NULL,"
	" usage TEXT NOT NULL,"
	" via TEXT NOT NULL,"
	" time INTEGER NOT NULL,"
	" UNIQUE (pid, start, sha1));",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

static cs_rv db_fail(cs_store *store, cs_err *err, const char *what)
{
	return cs_err_set(err, CS_ERR_STORE, "%s/store.db: %s: %s", store->dir, what,
			  store->db ? sqlite3_errmsg(store->db) : "cannot open");
}

static cs_rv exec(cs_store *store, const char *sql, cs_err *err)
{
	char *msg = NULL;
	cs_rv rv = CS_OK;

	if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		rv = cs_err_set(err, CS_ERR_STORE, "%s/store.db: %s", store->dir,
				msg ? msg : "SQL failed");
	sqlite3_free(msg);
	return rv;
}

/* One integer PRAGMA (user_version, data_version); failure says so. */
static cs_rv pragma_int(cs_store *store, const char *pragma, const char *failure, int64_t *out,
			cs_err *err)
{
	sqlite3_stmt *st = NULL;
	cs_rv rv = CS_OK;

	if (sqlite3_prepare_v2(store->db, pragma, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW)
		rv = db_fail(store, err, failure);
	else
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rv;
}

static cs_rv user_version(cs_store *store, int *out, cs_err *err)
{
	int64_t v = 0;
	cs_rv rv =
		pragma_int(store, "PRAGMA user_version", "cannot read the schema version", &v, err);

	if (rv == CS_OK)
		*out = (int)v;
	return rv;
}

static cs_rv migrate(cs_store *store, cs_err *err)
{
	char sql[64];
	int version;
	cs_rv rv;

	rv = cs_db_begin(store, err);
	if (rv != CS_OK)
		return rv;
	rv = user_version(store, &version, err);
	if (rv != CS_OK)
		goto out;
	if (version > SCHEMA_VERSION) {
		rv = cs_err_set(err, CS_ERR_STORE,
				"%s/store.db: schema version %d is newer than this certstore "
				"understands (%d); upgrade certstore",
				store->dir, version, SCHEMA_VERSION);
		goto out;
	}
	for (; version < SCHEMA_VERSION; version++) {
		rv = exec(store, migrations[version], err);
		if (rv != CS_OK)
			goto out;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	rv = exec(store, sql, err);
out:
	if (rv == CS_OK)
		return cs_db_commit(store, err);
	cs_db_rollback(store);
	return rv;
}

/* cs_key_id(der): the key ID of a DER certificate (cs_cert_key_id), NULL
 * when it cannot be parsed.  Registered on every connection so migrations
 * can fill the key_id column of rows stored before it existed. */
static void sql_key_id(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *der = sqlite3_value_blob(argv[0]);
	int len = sqlite3_value_bytes(argv[0]);
	unsigned char id[20];
	X509 *x = der != NULL ? d2i_X509(NULL, &der, len) : NULL;

	(void)argc;
	if (x != NULL && cs_x509_key_id(x, id))
		sqlite3_result_blob(ctx, id, sizeof(id), SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
	X509_free(x);
}

/* Make the file ourselves so it is born 0600; SQLite gives -wal/-shm the same mode. */
static cs_rv create_db_file(const char *path, cs_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return cs_err_set(err, CS_ERR_STORE, "%s: cannot create: %s", path,
				  strerror(errno));
	close(fd);
	return CS_OK;
}

static cs_rv needs_migration(cs_store *store, bool *out, cs_err *err)
{
	int version = 0;
	cs_rv rv = user_version(store, &version, err);

	*out = version != SCHEMA_VERSION;
	return rv;
}

cs_rv cs_db_open(cs_store *store, bool create, bool readonly, cs_err *err)
{
	char *path = NULL;
	bool migrate_needed = false;
	int flags;
	cs_rv rv;

	if (asprintf(&path, "%s/store.db", store->dir) < 0)
		return cs_err_set(err, CS_ERR_INTERNAL, "out of memory");
	if (access(path, F_OK) != 0) {
		if (!create) {
			rv = cs_err_set(err, CS_ERR_NOT_FOUND,
					"no store in %s (create one with `certstore init`)",
					store->dir);
			goto out;
		}
		rv = create_db_file(path, err);
		if (rv != CS_OK)
			goto out;
	}
	flags = (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
		rv = db_fail(store, err, "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(store->db, 30000);
	if (sqlite3_create_function(store->db, "cs_key_id", 1,
				    SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
				    sql_key_id, NULL, NULL) != SQLITE_OK) {
		rv = db_fail(store, err, "cannot register cs_key_id()");
		goto out;
	}
	sqlite3_extended_result_codes(store->db, 1);
	if (!readonly) {
		rv = exec(store, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;", err);
		if (rv != CS_OK)
			goto out;
	}
	rv = exec(store, "PRAGMA foreign_keys = ON;", err);
	if (rv == CS_OK)
		rv = needs_migration(store, &migrate_needed, err);
	if (rv == CS_OK && migrate_needed) {
		if (readonly)
			rv = cs_err_set(err, CS_ERR_STORE,
					"%s: the store needs a schema upgrade; run any certstore "
					"command as its owner first",
					path);
		else
			rv = migrate(store, err);
	}
out:
	free(path);
	return rv;
}

void cs_db_close(cs_store *store)
{
	if (store->db != NULL)
		sqlite3_close_v2(store->db);
	store->db = NULL;
}

cs_rv cs_db_begin(cs_store *store, cs_err *err)
{
	return exec(store, "BEGIN IMMEDIATE", err);
}

cs_rv cs_db_commit(cs_store *store, cs_err *err)
{
	cs_rv rv = exec(store, "COMMIT", err);

	if (rv != CS_OK)
		cs_db_rollback(store);
	return rv;
}

void cs_db_rollback(cs_store *store)
{
	if (!sqlite3_get_autocommit(store->db))
		(void)sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

cs_rv cs_db_data_version(cs_store *store, int64_t *out, cs_err *err)
{
	return pragma_int(store, "PRAGMA data_version", "cannot read the data version", out, err);
}

cs_rv cs_db_stmt_fail(cs_store *store, cs_err *err)
{
	return cs_err_set(err, CS_ERR_STORE, "%s/store.db: %s", store->dir,
			  sqlite3_errmsg(store->db));
}

char *cs_db_column_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t != NULL ? strdup((const char *)t) : NULL;
}
