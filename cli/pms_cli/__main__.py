from pms_cli.main import main

main()
