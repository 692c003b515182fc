"""pocnet: chat-ops bot for the OAS network of National Points of Contact on Transnational Organized Crime."""
