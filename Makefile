# ghostport: build, install and package.
#
#   make                  release build (.build/release/ghostport)
#   make install          install under PREFIX (default /usr/local), DESTDIR for staging
#   make uninstall        remove what install put there (not the configuration)
#   make deb              a Debian package built with dpkg-deb; its path is the last line printed
#
# What goes where (PREFIX=/usr for the package):
#   PREFIX/bin/ghostport
#   PREFIX/share/ghostport/rules/      abandoned-ports.rules, registry.tsv, classification.config
#   PREFIX/share/doc/ghostport/        README.md, rules/README.md, systemd/README.md, eve.schema.json
#   PREFIX/share/man/man1/             ghostport.1 and one page per subcommand
#   PREFIX/share/bash-completion/completions/ghostport, zsh/vendor-completions/_ghostport,
#   PREFIX/share/fish/vendor_completions.d/ghostport.fish
#   /etc/ghostport/ghostport.yaml      the example configuration (a conffile in the package)
#   /etc/logrotate.d/ghostport
#   UNITDIR/ghostport.service          /etc/systemd/system, /usr/lib/systemd/system in the package
#   /usr/lib/sysusers.d/ghostport.conf, /usr/lib/tmpfiles.d/ghostport.conf

SWIFT ?= swift
PREFIX ?= /usr/local
DESTDIR ?=
UNITDIR ?= /etc/systemd/system
SYSUSERSDIR ?= /usr/lib/sysusers.d
TMPFILESDIR ?= /usr/lib/tmpfiles.d
# The package links the Swift runtime in, so it needs nothing of a Swift toolchain.
SWIFT_BUILD_FLAGS ?=
SCRATCH ?= .build

VERSION := $(shell sed -n 's/.*static let version = "\(.*\)".*/\1/p' Sources/ghostport/Version.swift)
ARCH := $(shell dpkg --print-architecture 2>/dev/null || uname -m)
BINARY = $(SCRATCH)/release/ghostport
GENERATED = $(SCRATCH)/generated

.PHONY: all build docs install uninstall deb clean-generated

all: build

# The commit goes into --version: the short hash, with -dirty for uncommitted changes.
COMMIT := $(shell git describe --always --dirty --abbrev=12 2>/dev/null)
COMMIT_FLAGS := $(if $(COMMIT),-Xcc -DGHOSTPORT_COMMIT='"$(COMMIT)"')

build:
	$(SWIFT) build -c release --product ghostport --scratch-path $(SCRATCH) $(SWIFT_BUILD_FLAGS) $(COMMIT_FLAGS)

# Man pages from the command-line definitions (swift-argument-parser's manual generator, run on
# the binary just built; dated by the last commit so that a rebuild is byte for byte the same)
# and the shells' completion scripts.
MANDATE := $(shell git log -1 --format=%cs 2>/dev/null || date +%F)
docs: build
	rm -rf $(GENERATED) && mkdir -p $(GENERATED)/man $(GENERATED)/completions
	$(SWIFT) build -c release --product generate-manual --scratch-path $(SCRATCH) $(SWIFT_BUILD_FLAGS) $(COMMIT_FLAGS)
	$(SCRATCH)/release/generate-manual $(BINARY) --multi-page --date $(MANDATE) \
	    --authors 'ghostport developers' --output-directory $(GENERATED)/man
	test -f $(GENERATED)/man/ghostport.1
	$(BINARY) --generate-completion-script bash > $(GENERATED)/completions/ghostport
	$(BINARY) --generate-completion-script zsh > $(GENERATED)/completions/_ghostport
	$(BINARY) --generate-completion-script fish > $(GENERATED)/completions/ghostport.fish

install: docs
	install -D -m 0755 $(BINARY) $(DESTDIR)$(PREFIX)/bin/ghostport
	install -d $(DESTDIR)$(PREFIX)/share/ghostport/rules $(DESTDIR)$(PREFIX)/share/doc/ghostport \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0644 rules/abandoned-ports.rules rules/registry.tsv rules/classification.config \
	    $(DESTDIR)$(PREFIX)/share/ghostport/rules/
	install -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/ghostport/README.md
	install -m 0644 rules/README.md $(DESTDIR)$(PREFIX)/share/doc/ghostport/rules.md
	install -m 0644 systemd/README.md $(DESTDIR)$(PREFIX)/share/doc/ghostport/systemd.md
	install -m 0644 Tests/schema/eve.schema.json $(DESTDIR)$(PREFIX)/share/doc/ghostport/eve.schema.json
	install -m 0644 $(GENERATED)/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -D -m 0644 $(GENERATED)/completions/ghostport $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ghostport
	install -D -m 0644 $(GENERATED)/completions/_ghostport $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_ghostport
	install -D -m 0644 $(GENERATED)/completions/ghostport.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ghostport.fish
	install -D -m 0640 systemd/ghostport.yaml $(DESTDIR)/etc/ghostport/ghostport.yaml
	install -D -m 0644 systemd/ghostport.logrotate $(DESTDIR)/etc/logrotate.d/ghostport
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/ghostport|$(PREFIX)/bin/ghostport|' systemd/ghostport.service \
	    > $(DESTDIR)$(UNITDIR)/ghostport.service && chmod 0644 $(DESTDIR)$(UNITDIR)/ghostport.service
	install -D -m 0644 systemd/sysusers.d-ghostport.conf $(DESTDIR)$(SYSUSERSDIR)/ghostport.conf
	install -D -m 0644 systemd/tmpfiles.d-ghostport.conf $(DESTDIR)$(TMPFILESDIR)/ghostport.conf
	@# On the machine itself (no DESTDIR): the account, its directories, and the configuration
	@# readable by the service's group (the unit runs as ghostport from the start). The package
	@# does this in its postinst.
	if [ -z "$(DESTDIR)" ]; then \
	    systemd-sysusers $(SYSUSERSDIR)/ghostport.conf && \
	    systemd-tmpfiles --create $(TMPFILESDIR)/ghostport.conf && \
	    chgrp ghostport /etc/ghostport/ghostport.yaml; \
	fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/ghostport $(DESTDIR)$(UNITDIR)/ghostport.service \
	    $(DESTDIR)$(SYSUSERSDIR)/ghostport.conf $(DESTDIR)$(TMPFILESDIR)/ghostport.conf \
	    $(DESTDIR)/etc/logrotate.d/ghostport \
	    $(DESTDIR)$(PREFIX)/share/bash-completion/completions/ghostport \
	    $(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_ghostport \
	    $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/ghostport.fish
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/ghostport.1 $(DESTDIR)$(PREFIX)/share/man/man1/ghostport.*.1
	rm -rf $(DESTDIR)$(PREFIX)/share/ghostport $(DESTDIR)$(PREFIX)/share/doc/ghostport

# The package: PREFIX=/usr, the unit under /usr/lib/systemd/system, the Swift runtime linked
# statically (the binary needs libpcap, libhiredis and glibc only), staged under .build/deb.
DEBROOT = $(SCRATCH)/deb/ghostport_$(VERSION)_$(ARCH)
deb:
	rm -rf $(DEBROOT) && mkdir -p $(DEBROOT)
	$(MAKE) install PREFIX=/usr UNITDIR=/usr/lib/systemd/system DESTDIR=$(CURDIR)/$(DEBROOT) \
	    SCRATCH=.build-static SWIFT_BUILD_FLAGS=--static-swift-stdlib >/dev/null
	gzip -9n $(DEBROOT)/usr/share/man/man1/*.1
	strip --strip-unneeded $(DEBROOT)/usr/bin/ghostport
	mkdir -p $(DEBROOT)/DEBIAN
	install -m 0755 systemd/deb/postinst systemd/deb/prerm systemd/deb/postrm $(DEBROOT)/DEBIAN/
	printf '%s\n' /etc/ghostport/ghostport.yaml /etc/logrotate.d/ghostport > $(DEBROOT)/DEBIAN/conffiles
	{ \
	  echo "Package: ghostport"; \
	  echo "Version: $(VERSION)"; \
	  echo "Architecture: $(ARCH)"; \
	  echo "Maintainer: ghostport developers <ghostport@localhost>"; \
	  echo "Depends: $$(dpkg-query -W -f='$${Package} (>= $${Version})' libpcap0.8 2>/dev/null || echo libpcap0.8), $$(dpkg-query -W -f='$${Package} (>= $${Version})' libhiredis0.14 2>/dev/null || echo libhiredis0.14), libc6, libstdc++6, libgcc-s1, systemd"; \
	  echo "Recommends: logrotate"; \
	  echo "Section: net"; \
	  echo "Priority: optional"; \
	  echo "Installed-Size: $$(du -sk $(DEBROOT) | cut -f1)"; \
	  echo "Description: passive sensor for traffic on abandoned ports"; \
	  echo " ghostport watches ports IANA still registers for services nobody runs any more,"; \
	  echo " tells a probe from a live listener and writes Suricata-compatible EVE alerts."; \
	} > $(DEBROOT)/DEBIAN/control
	dpkg-deb --build --root-owner-group $(DEBROOT) $(SCRATCH)/deb/ >/dev/null
	@echo $(CURDIR)/$(SCRATCH)/deb/ghostport_$(VERSION)_$(ARCH).deb
